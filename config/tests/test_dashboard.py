"""The staff dashboard at /admin/dashboard/ (config/dashboard.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order, OrderEmail
from payments.models import WebhookEvent
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/admin/dashboard/"


def make_order(status, total="10.00", created=None, needs_review=False, reason=""):
    user = UserFactory()
    order = Order.objects.create(
        user=user,
        currency="usd",
        subtotal=Decimal(total),
        total=Decimal(total),
        expires_at=timezone.now() + timedelta(minutes=15),
        needs_review=needs_review,
        review_reason=reason,
    )
    # Test data: set the state directly (the status field is protected from assignment).
    changes = {"status": status, **({"created_at": created} if created else {})}
    Order.objects.filter(pk=order.pk).update(**changes)
    return order


def make_data(n):
    for i in range(n):
        make_order(Order.Status.PAID, total="20.00")
        pending = make_order(Order.Status.PAYMENT_PENDING)
        make_order(Order.Status.FULFILLED, total="5.00", needs_review=True, reason=f"dispute {i}")
        make_order(Order.Status.PAID, total="99.00", created=timezone.now() - timedelta(days=3))
        ProductFactory(stock=i % 3, name=f"Low {i}")
        ProductFactory(stock=50)
        OrderEmail.objects.create(
            order=pending, kind="placed", attempts=OrderEmail.MAX_ATTEMPTS if i % 2 else 2,
            last_error=f"SMTPServerDisconnected: lost {i}",
        )  # fmt: skip
        OrderEmail.objects.create(order=pending, kind="paid", sent_at=timezone.now(), attempts=1)
        WebhookEvent.objects.create(
            stripe_event_id=f"evt_fail_{n}_{i}",
            type="payment_intent.succeeded",
            status=WebhookEvent.Status.FAILED,
            last_error="RuntimeError: boom",
        )


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_the_dashboard_shows_today_low_stock_failures_and_flagged_orders(staff_client):
    make_data(2)

    response = staff_client.get(URL)

    assert response.status_code == 200
    ctx = response.context
    counts = {s["value"]: s["count"] for s in ctx["statuses"]}
    assert counts["paid"] == 2 and counts["payment_pending"] == 2 and counts["fulfilled"] == 2
    assert counts["cancelled"] == 0
    assert ctx["orders_today"] == 6  # the three-day-old orders are not today's
    assert ctx["revenue_today"] == Decimal("50.00")  # 2 x 20 paid + 2 x 5 fulfilled
    assert [row.product.name for row in ctx["low_stock"]] == ["Low 0", "Low 1"]
    assert ctx["failed_webhook_count"] == 2
    assert ctx["outbox"] == {
        "pending": 0, "retrying": 1, "gave_up": 1, "oldest_pending_seconds": 0.0
    }  # fmt: skip
    assert [e.attempts for e in ctx["failing_emails"]] == [9, 2]
    assert ctx["flagged_count"] == 2
    html = response.content.decode()
    assert 'data-testid="revenue-today">$50.00<' in html
    assert "dispute 1" in html and "evt_fail_2_0" in html
    emails = html.split('data-testid="failing-emails"')[1].split("</section>")[0]
    assert "gave up" in emails and "SMTPServerDisconnected: lost 0" in emails
    assert "0 waiting for their first try; 1 retrying; 1 gave up." in emails
    # The chart: one bar per day, today's bar is the tallest (6 orders), 3 days ago has 2.
    bars = ctx["chart"]["bars"]
    assert len(bars) == 14
    assert bars[-1].orders == 6 and bars[-1].height == 120
    assert bars[-4].orders == 2 and bars[-4].paid == 2 and bars[-4].height == 40
    assert html.count('class="bar"') == 14
    # Axes: the y axis ticks 0, half the busiest day and the busiest day, with grid lines.
    assert [(t["value"], t["y"]) for t in ctx["chart"]["ticks"]] == [(0, 120), (3, 60), (6, 0)]
    assert html.count('class="chart-grid"') == 3
    assert 'data-testid="x-axis"' in html and ">Orders</text>" in html
    legend = html.split('data-testid="chart-legend"')[1].split("</ul>")[0]
    assert "All orders placed that day" in legend and "Of them paid" in legend
    assert "<script" not in html.split('id="content-main"')[1]


def test_the_query_count_does_not_grow_with_the_data(staff_client):
    make_data(1)
    staff_client.get(URL)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as small:
        assert staff_client.get(URL).status_code == 200

    make_data(8)
    with CaptureQueriesContext(connection) as large:
        response = staff_client.get(URL)

    assert response.context["flagged_count"] == 9
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(small.captured_queries) <= 12


def test_the_admin_index_links_to_the_dashboard(staff_client):
    response = staff_client.get("/admin/")

    assert response.status_code == 200
    assert 'href="/admin/dashboard/"' in response.content.decode()


def test_customers_and_visitors_are_sent_to_the_admin_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")

    client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
