"""Read queries over payments and Stripe events that views and the dashboard share."""

from payments.models import Payment, WebhookEvent


def payment_of(*, order) -> Payment | None:
    """The order's payment (its PaymentIntent), or None before one was made."""
    return Payment.objects.filter(order=order).first()


def failed_webhook_events(*, limit: int) -> tuple[list[WebhookEvent], int]:
    """The newest `limit` Stripe events whose processing failed, and how many failed."""
    failed = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED)
    newest = list(
        failed.only(
            "id", "stripe_event_id", "type", "received_at", "attempts", "last_error"
        ).order_by("-received_at")[:limit]
    )
    return newest, failed.count()
