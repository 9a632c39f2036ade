"""Errors of payments and refunds (on core.exceptions.ShopError)."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ShopError


class PaymentUnavailable(ShopError):
    code = "payment_unavailable"
    default_detail = _("The payment provider cannot be reached right now. Please try again.")


class InvalidRefund(ShopError):
    code = "invalid_refund"
    default_detail = _("This refund is not possible.")


class PaymentInProgress(ShopError):
    code = "payment_in_progress"
    default_detail = _(
        "A payment for this order is being processed, so it cannot be cancelled now. "
        "We will let you know as soon as it completes."
    )
