"""The base of every business error. Each app defines its own errors on it
(`shop.exceptions`, `orders.exceptions`, `payments.exceptions`); HTML views turn them
into messages, `config.api.exception_handler` into HTTP answers (the one mapping).

Each carries a stable `code` (API clients match on it) and a human `detail`.
"""

from django.utils.translation import gettext_lazy as _


class ShopError(Exception):
    code = "shop_error"
    default_detail = _("The request could not be completed.")

    def __init__(self, detail: str | None = None):
        # Translated now, in the language of the request that caused the error.
        self.detail = str(detail or self.default_detail)
        super().__init__(self.detail)


class NotPermitted(ShopError):
    code = "not_permitted"
    default_detail = _("You are not allowed to do this.")
