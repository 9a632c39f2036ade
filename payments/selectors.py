"""Read queries over payments and Stripe events that views and the dashboard share."""

from decimal import Decimal

from payments.models import Payment, WebhookEvent
from wallets.selectors import refundable_to_wallet


def payment_of(*, order) -> Payment | None:
    """The order's payment (its PaymentIntent), or None before one was made."""
    return Payment.objects.filter(order=order).first()


def refundable_amount(*, order) -> Decimal | None:
    """What is left to refund of the order, however it was paid (refund_payment's own
    rule); None when nothing paid it."""
    to_wallet = refundable_to_wallet(order_id=order.pk)
    if to_wallet is not None:
        return to_wallet
    payment = payment_of(order=order)
    return payment.refundable if payment is not None else None


def failed_webhook_events(*, limit: int) -> tuple[list[WebhookEvent], int]:
    """The newest `limit` Stripe events whose processing failed, and how many failed."""
    failed = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED)
    newest = list(
        failed.only(
            "id", "stripe_event_id", "type", "received_at", "attempts", "last_error"
        ).order_by("-received_at")[:limit]
    )
    return newest, failed.count()
