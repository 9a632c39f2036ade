"""Errors of payments and refunds (on core.exceptions.ShopError)."""

from core.exceptions import ShopError


class PaymentUnavailable(ShopError):
    code = "payment_unavailable"
    default_detail = "The payment provider cannot be reached right now. Please try again."


class InvalidRefund(ShopError):
    code = "invalid_refund"
    default_detail = "This refund is not possible."


class PaymentInProgress(ShopError):
    code = "payment_in_progress"
    default_detail = (
        "A payment for this order is being processed, so it cannot be cancelled now. "
        "We will let you know as soon as it completes."
    )
