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
from django.template.response import TemplateResponse
from django.utils import timezone

from orders import selectors as order_selectors
from orders.models import Order
from payments.selectors import failed_webhook_events
from shop.selectors import low_stock

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
    by_status = order_selectors.orders_by_status(since=since)
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
    """Orders per day (and how many of them paid) for CHART_DAYS days: one query.

    Coordinates for the template's SVG: bars right of a y axis whose ticks (0, half the
    busiest day, the busiest day) have grid lines, the days along the x axis below.
    """
    first = today - timedelta(days=CHART_DAYS - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    per_day = order_selectors.orders_per_day(since=since)
    peak = max((row["n"] for row in per_day.values()), default=0) or 1
    width, height, gap, left = 36, 120, 8, 32
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
                x=left + i * (width + gap),
                width=width,
                height=bar_height,
                y=height - bar_height,
                paid_height=paid_height,
                paid_y=height - paid_height,
            )
        )
    ticks = [
        {"value": value, "y": height - round(height * value / peak)}
        for value in sorted({0, peak // 2, peak})
    ]
    return {
        "bars": bars,
        "left": left,
        "width": left + CHART_DAYS * (width + gap) - gap,
        "height": height,
        "peak": peak,
        "ticks": ticks,
    }


def dashboard(request):
    since = _start_of_today()
    statuses, revenue, total = orders_today(since)
    failed_webhooks, failed_webhook_count = failed_webhook_events(limit=LIST_LIMIT)
    flagged, flagged_count = order_selectors.flagged_orders(limit=LIST_LIMIT)
    context = {
        **admin.site.each_context(request),
        "title": "Shop dashboard",
        "today": timezone.localdate(),
        "statuses": statuses,
        "orders_today": total,
        "revenue_today": revenue,
        "currency": settings.SHOP_CURRENCY,
        "low_stock": low_stock(threshold=LOW_STOCK, limit=LIST_LIMIT),
        "low_stock_threshold": LOW_STOCK,
        "failed_webhooks": failed_webhooks,
        "failed_webhook_count": failed_webhook_count,
        "failing_emails": order_selectors.failing_emails(limit=LIST_LIMIT),
        "outbox": order_selectors.email_outbox(),
        "flagged": flagged,
        "flagged_count": flagged_count,
        "chart": chart(timezone.localdate()),
        "chart_days": CHART_DAYS,
    }
    return TemplateResponse(request, "admin/dashboard.html", context)
