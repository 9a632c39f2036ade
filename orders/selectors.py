"""Read queries over orders that more than one caller needs."""

from django.db.models import Count, IntegerField, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.models import Order, OrderEmail, OrderItem
from shop.models import Inventory


def orders_visible_to(*, user):
    """Staff see every order; a customer only their own. The one place that says so."""
    orders = Order.objects.all()
    return orders if user.is_staff else orders.filter(user=user)


def _quantity_in(status_filter: Q):
    return Coalesce(
        Subquery(
            OrderItem.objects.filter(status_filter, product_id=OuterRef("product_id"))
            .values("product_id")
            .annotate(total=Sum("quantity"))
            .values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def stock_discrepancies() -> list[dict]:
    """Products whose stock breaks an invariant of DESIGN.md; empty when all is well.

    - available >= 0 and reserved >= 0;
    - received == available + reserved + sold, where sold counts paid, fulfilled and
      refunded-but-not-restocked orders;
    - reserved == the quantities of orders still holding stock (created, payment_pending).
    One query, whatever the number of products.
    """
    sold = Q(order__status__in=Order.SOLD) & ~Q(
        order__status=Order.Status.REFUNDED, order__restocked=True
    )
    rows = Inventory.objects.annotate(
        sold=_quantity_in(sold),
        pending=_quantity_in(Q(order__status__in=Order.HOLDING_STOCK)),
    ).values("product_id", "available", "reserved", "received", "sold", "pending")
    problems = []
    for row in rows:
        broken = []
        if row["available"] < 0 or row["reserved"] < 0:
            broken.append("negative stock")
        if row["received"] != row["available"] + row["reserved"] + row["sold"]:
            broken.append("received != available + reserved + sold")
        if row["reserved"] != row["pending"]:
            broken.append("reserved != quantities of pending orders")
        if broken:
            problems.append({**row, "broken": broken})
    return problems


def email_outbox() -> dict:
    """The order email outbox at a glance, in one query: unsent emails not tried yet
    (`pending`) and how long the oldest has waited, emails waiting to retry after a
    failure (`retrying`) and emails that gave up (`gave_up`).

    A growing `oldest_pending_seconds` means no dispatcher or no worker is running.
    """
    now = timezone.now()
    pending = Q(attempts=0)
    last = OrderEmail.MAX_ATTEMPTS
    stats = OrderEmail.objects.filter(sent_at__isnull=True).aggregate(
        pending=Count("pk", filter=pending),
        oldest_pending=Min("created_at", filter=pending),
        retrying=Count("pk", filter=Q(attempts__gt=0, attempts__lt=last)),
        gave_up=Count("pk", filter=Q(attempts__gte=last)),
    )
    oldest = stats.pop("oldest_pending")
    stats["oldest_pending_seconds"] = (now - oldest).total_seconds() if oldest else 0.0
    return stats


def failing_emails(*, limit: int) -> list[OrderEmail]:
    """Unsent emails whose sending failed at least once (retrying or gave up), the most
    tried first, with their order; at most `limit`."""
    return list(
        OrderEmail.objects.filter(sent_at__isnull=True, attempts__gt=0)
        .select_related("order")
        .only("id", "kind", "attempts", "last_error", "next_attempt_at", "sent_at", "order__id")
        .order_by("-attempts", "next_attempt_at")[:limit]
    )
