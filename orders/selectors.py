"""Read queries over orders: what views, the API, the dashboard and services read."""

from datetime import date, datetime

from django.db.models import (
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from audit.actions import Action, Entity
from audit.selectors import history_of
from orders.models import Order, OrderEmail, OrderItem
from pricing.selectors import coupon_discrepancies, coupon_use_order_ids
from shop.models import Inventory

# What the customer reads on the order page for each audit action; others stay internal.
TIMELINE_LABELS = {
    Action.ORDER_CREATED: _("Order placed, items reserved"),
    Action.ORDER_PAYMENT_STARTED: _("Waiting for your payment"),
    Action.PAYMENT_DECLINED: _("Payment declined"),
    Action.ORDER_PAID: _("Payment received"),
    Action.ORDER_PAID_LATE: _("Late payment accepted"),
    Action.ORDER_FULFILLED: _("Order fulfilled and on its way"),
    Action.ORDER_CANCELLED: _("Order cancelled"),
    Action.ORDER_EXPIRED: _("Reservation expired"),
    Action.ORDER_FAILED: _("Payment failed"),
    Action.REFUND_REQUESTED: _("Refund requested"),
    Action.REFUNDED_TO_WALLET: _("Refunded to your wallet"),
    Action.ORDER_REFUNDED: _("Order refunded"),
}
# Actions whose recorded reason the customer sees beside the label.
_TIMELINE_REASONS = {Action.PAYMENT_DECLINED, Action.ORDER_FAILED}


def orders_visible_to(*, user) -> QuerySet[Order]:
    """Staff see every order; a customer only their own. The one place that says so."""
    orders = Order.objects.all()
    return orders if user.is_staff else orders.filter(user=user)


def orders_with_details(*, user=None) -> QuerySet[Order]:
    """Orders with their items and payment loaded (the API's order object); only those
    `user` may see when given."""
    orders = Order.objects.all() if user is None else orders_visible_to(user=user)
    return orders.select_related("payment").prefetch_related("items")


def orders_of(*, user) -> QuerySet[Order]:
    """The user's own orders: all the storefront's pages show (staff shop there as
    customers; they see other orders in the admin)."""
    return Order.objects.filter(user=user)


def order_history(*, user) -> QuerySet[Order]:
    """The user's own orders, newest first, each with its number of units."""
    return orders_of(user=user).annotate(units=Sum("items__quantity")).order_by("-created_at", "pk")


def order_timeline(*, order: Order) -> list[dict]:
    """What happened to the order, as the customer reads it: `{when, label, note}`."""
    events = history_of(entity_type=Entity.ORDER, entity_id=order.pk, actions=TIMELINE_LABELS)
    return [
        {
            "when": event.occurred_at,
            "label": TIMELINE_LABELS[event.action],
            "note": (event.after or {}).get("reason", "")
            if event.action in _TIMELINE_REASONS
            else "",
        }
        for event in events
    ]


def address_lines(snapshot: dict | None) -> str:
    """An order's address snapshot as it goes on a parcel: one line each, blanks left out."""
    if not snapshot:
        return ""
    lines = [
        snapshot.get("full_name", ""),
        snapshot.get("line1", ""),
        snapshot.get("line2", ""),
        " ".join(filter(None, [snapshot.get("postal_code", ""), snapshot.get("city", "")])),
        snapshot.get("region", ""),
        countries.name(snapshot.get("country", "")) or snapshot.get("country", ""),
        snapshot.get("phone", ""),
    ]
    return "\n".join(line for line in lines if line)


def order_quantities(order: Order) -> dict[int, int]:
    """Product id -> quantity of the order's lines."""
    return dict(order.items.values_list("product_id", "quantity"))


def pending_quantity(*, product_id: int) -> int:
    """Units of a product held by orders that still reserve stock (created, pending)."""
    pending = OrderItem.objects.filter(
        product_id=product_id, order__status__in=Order.HOLDING_STOCK
    ).aggregate(total=Sum("quantity"))["total"]
    return pending or 0


# --- the staff dashboard -----------------------------------------------------------------


def orders_by_status(*, since: datetime) -> dict[str, dict]:
    """Status -> `{n, revenue}` of the orders placed since `since`: one query."""
    rows = (
        Order.objects.filter(created_at__gte=since)
        .order_by()
        .values("status")
        .annotate(n=Count("id"), revenue=Sum("total"))
    )
    return {row["status"]: row for row in rows}


def orders_per_day(*, since: datetime) -> dict[date, dict]:
    """Day -> `{n, paid}`: orders placed each day since `since` and how many of them were
    paid (or went on to fulfilment or refund): one query."""
    rows = (
        Order.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("id"), paid=Count("id", filter=Q(status__in=Order.SOLD)))
    )
    return {row["day"]: row for row in rows}


def flagged_orders(*, limit: int) -> tuple[list[Order], int]:
    """The newest `limit` orders flagged for staff review, with their customer, and how
    many are flagged in all."""
    flagged = Order.objects.filter(needs_review=True)
    newest = list(
        flagged.select_related("user")
        .only("id", "status", "total", "currency", "review_reason", "created_at", "user__email")
        .order_by("-created_at")[:limit]
    )
    return newest, flagged.count()


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


def money_discrepancies() -> list[dict]:
    """Orders whose totals break the money invariant of DESIGN.md, and coupons whose
    use count is off; empty when all is well.

    - every order: total == subtotal - discount_total + shipping_total + tax_total (also
      a CHECK), and no order holds a coupon use it may not (an order that ended unpaid
      gave it back; `coupon_uses` of pricing are the rest);
    - every coupon: uses == its use rows, never above max_uses (pricing.selectors).
    The payments side (PaymentIntent amount == total, refunds <= total) is
    payments.selectors.payment_discrepancies. Three queries.
    """
    breakdown = F("subtotal") - F("discount_total") + F("shipping_total") + F("tax_total")
    problems = [
        {"order_id": row["pk"], "total": row["total"], "broken": ["total != its breakdown"]}
        for row in Order.objects.exclude(total=breakdown).values("pk", "total")
    ]
    ended_unpaid = (Order.Status.CANCELLED, Order.Status.EXPIRED, Order.Status.FAILED)
    holding = Order.objects.filter(pk__in=coupon_use_order_ids(), status__in=ended_unpaid)
    problems.extend(
        {"order_id": pk, "broken": ["an order ended unpaid holds a coupon use"]}
        for pk in holding.values_list("pk", flat=True)
    )
    problems.extend(coupon_discrepancies())
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
