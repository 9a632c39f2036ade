"""Read queries over payments and Stripe events that views and the dashboard share."""

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from payments.models import Payment, Refund, WebhookEvent
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


def payment_discrepancies() -> list[dict]:
    """Order payments that break the money invariant of DESIGN.md; empty when all is
    well: the PaymentIntent's amount equals the order's total, and what was refunded
    (the payment's `amount_refunded`, and its refunds pending or made) never exceeds
    it. One query. (orders.selectors.money_discrepancies checks the totals themselves.)
    """
    refunds = (
        Refund.objects.filter(payment=OuterRef("pk"), status__in=Refund.COUNTED)
        .order_by()
        .values("payment")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    rows = (
        Payment.objects.annotate(
            order_total=F("order__total"),
            refunded=Coalesce(Subquery(refunds, output_field=money), Value(0, money)),
        )
        .filter(
            ~Q(amount=F("order_total"))
            | Q(amount_refunded__gt=F("order_total"))
            | Q(refunded__gt=F("order_total"))
        )
        .values("pk", "order_id", "amount", "order_total", "amount_refunded", "refunded")
    )
    return [
        {**row, "broken": ["PaymentIntent amount != order total, or refunds above it"]}
        for row in rows
    ]
