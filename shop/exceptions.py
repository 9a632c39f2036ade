"""Errors of the catalog, stock and carts (on core.exceptions.ShopError)."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ShopError


class InvalidCart(ShopError):
    code = "invalid_cart"
    default_detail = _("The cart is not valid.")


class InsufficientStock(ShopError):
    code = "insufficient_stock"

    def __init__(
        self,
        *,
        product_id: int,
        requested: int,
        available: int,
        name: str = "",
        taking_away: bool = False,
    ):
        self.product_id = product_id
        self.requested = requested
        self.available = available
        label = name or _("Product %(id)s") % {"id": product_id}
        # A stock correction takes units away; an order asks for them.
        message = (
            _("%(product)s: only %(available)s available, %(requested)s cannot be taken away.")
            if taking_away
            else _("%(product)s: %(requested)s requested, only %(available)s available.")
        )
        super().__init__(
            message % {"product": label, "requested": requested, "available": available}
        )
