"""The staff dashboard at /admin/dashboard/ (linked from the admin index).

Today's orders by status and revenue, low stock, failed webhook events, order emails
that failed to send, orders flagged for review, and a bar chart of the last 14 days
drawn as server-side SVG (no script).
A fixed number of queries whatever the data: each panel is one aggregate or one
bounded list.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.template.response import TemplateResponse
from django.utils import timezone

from orders.models import Order
from orders.selectors import email_outbox, failing_emails
from payments.models import WebhookEvent
from shop.models import Inventory

LOW_STOCK = 5
LIST_LIMIT = 20
CHART_DAYS = 14
# Revenue counts orders whose money the shop keeps: paid or already fulfilled.
REVENUE_STATUSES = (Order.Status.PAID, Order.Status.FULFILLED)


@dataclass
class Bar:
    day: str
    label: str
    orders: int
    paid: int
    x: int
    width: int
    height: int
    y: int
    paid_height: int
    paid_y: int


def _start_of_today() -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))


def orders_today(since: datetime) -> tuple[list[dict], Decimal, int]:
    """Counts per status (every status listed, zeros included), revenue, total: one query."""
    rows = (
        Order.objects.filter(created_at__gte=since)
        .order_by()
        .values("status")
        .annotate(n=Count("id"), revenue=Sum("total"))
    )
    by_status = {row["status"]: row for row in rows}
    statuses = [
        {"value": value, "label": label, "count": by_status.get(value, {}).get("n", 0)}
        for value, label in Order.Status.choices
    ]
    revenue = sum(
        (by_status[s]["revenue"] or Decimal("0") for s in REVENUE_STATUSES if s in by_status),
        Decimal("0.00"),
    )
    total = sum(s["count"] for s in statuses)
    return statuses, revenue, total


def chart(today) -> dict:
    """Orders per day (and how many of them paid) for CHART_DAYS days: one query."""
    first = today - timedelta(days=CHART_DAYS - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    rows = (
        Order.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("id"), paid=Count("id", filter=Q(status__in=Order.SOLD)))
    )
    per_day = {row["day"]: row for row in rows}
    peak = max((row["n"] for row in per_day.values()), default=0) or 1
    width, height, gap = 36, 120, 8
    bars = []
    for i in range(CHART_DAYS):
        day = first + timedelta(days=i)
        row = per_day.get(day, {"n": 0, "paid": 0})
        bar_height = round(height * row["n"] / peak)
        paid_height = round(height * row["paid"] / peak)
        bars.append(
            Bar(
                day=day.isoformat(),
                label=day.strftime("%d %b"),
                orders=row["n"],
                paid=row["paid"],
                x=i * (width + gap),
                width=width,
                height=bar_height,
                y=height - bar_height,
                paid_height=paid_height,
                paid_y=height - paid_height,
            )
        )
    return {
        "bars": bars,
        "width": CHART_DAYS * (width + gap) - gap,
        "height": height,
        "peak": peak,
    }


def dashboard(request):
    since = _start_of_today()
    statuses, revenue, total = orders_today(since)
    low_stock = list(
        Inventory.objects.filter(product__is_active=True, available__lte=LOW_STOCK)
        .select_related("product")
        .order_by("available", "product__name")[:LIST_LIMIT]
    )
    failed_webhooks = list(
        WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED)
        .only("id", "stripe_event_id", "type", "received_at", "attempts", "last_error")
        .order_by("-received_at")[:LIST_LIMIT]
    )
    failed_webhook_count = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count()
    flagged = list(
        Order.objects.filter(needs_review=True)
        .select_related("user")
        .only("id", "status", "total", "currency", "review_reason", "created_at", "user__email")
        .order_by("-created_at")[:LIST_LIMIT]
    )
    flagged_count = Order.objects.filter(needs_review=True).count()
    context = {
        **admin.site.each_context(request),
        "title": "Shop dashboard",
        "today": timezone.localdate(),
        "statuses": statuses,
        "orders_today": total,
        "revenue_today": revenue,
        "currency": settings.SHOP_CURRENCY,
        "low_stock": low_stock,
        "low_stock_threshold": LOW_STOCK,
        "failed_webhooks": failed_webhooks,
        "failed_webhook_count": failed_webhook_count,
        "failing_emails": failing_emails(limit=LIST_LIMIT),
        "outbox": email_outbox(),
        "flagged": flagged,
        "flagged_count": flagged_count,
        "chart": chart(timezone.localdate()),
        "chart_days": CHART_DAYS,
    }
    return TemplateResponse(request, "admin/dashboard.html", context)
