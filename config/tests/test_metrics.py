"""Prometheus metrics at /metrics (config/metrics.py, config/views.py)."""

import contextlib
import os
import re
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from prometheus_client import REGISTRY

from orders import services as order_services
from orders.checkout import place_order
from orders.models import Order, OrderEmail
from orders.tests.factories import make_order
from payments.tests.helpers import intent_dict, make_event, post_event
from shop.exceptions import InsufficientStock, InvalidCart
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def value(name, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """How much a sample grew during the `with` block."""

    def __init__(self, name, **labels):
        self.name, self.labels = name, labels

    def __enter__(self):
        self.before = value(self.name, **self.labels)
        return self

    def __exit__(self, *exc):
        self.after = value(self.name, **self.labels)

    @property
    def delta(self):
        return self.after - self.before


# Access ---------------------------------------------------------------------------------


def test_metrics_answer_a_scraper_from_an_allowed_network(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    for name in (
        "shop_http_request_duration_seconds",
        "shop_checkouts_total",
        "shop_webhook_events_total",
        "shop_webhook_event_lag_seconds",
        "shop_order_transitions_total",
        "shop_reservations_expired_total",
        "shop_payment_reconciliation_fixes_total",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in body, name


def test_metrics_default_to_localhost_only(client, settings):
    assert settings.METRICS_ALLOWED_NETWORKS == ["127.0.0.1/32"]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.10").status_code == 403


def test_metrics_refuse_others_and_ignore_forwarded_for(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.1")

    assert response.status_code == 403
    assert b"shop_" not in response.content


def test_staff_see_metrics_from_anywhere_customers_do_not(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    client.force_login(UserFactory())
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403

    client.force_login(StaffFactory())
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200


# Requests -------------------------------------------------------------------------------


def test_request_latency_is_recorded_by_view(client):
    with (
        Delta("shop_http_request_duration_seconds_count", view="shop:catalog", method="GET") as d,
        Delta("shop_http_requests_total", view="shop:catalog", method="GET", status="200") as n,
    ):
        client.get("/")
        client.get("/")

    assert d.delta == 2
    assert n.delta == 2


def test_unknown_urls_share_one_label(client):
    with Delta("shop_http_requests_total", view="<unmatched>", method="GET", status="404") as d:
        client.get("/no/such/page/1")
        client.get("/no/such/page/2")
    assert d.delta == 2


# Checkouts ------------------------------------------------------------------------------


def outcome(name):
    return Delta("shop_checkouts_total", outcome=name)


def test_checkouts_are_counted_by_outcome(django_capture_on_commit_callbacks):
    user = UserFactory()
    product = ProductFactory(stock=2)

    with (
        outcome("placed") as placed,
        outcome("idempotent_replay") as replayed,
        django_capture_on_commit_callbacks(execute=True),
    ):
        place_order(user=user, lines=[(product.pk, 1)], idempotency_key="k1")
        place_order(user=user, lines=[(product.pk, 1)], idempotency_key="k1")
    assert (placed.delta, replayed.delta) == (1, 1)

    with outcome("insufficient_stock") as short, pytest.raises(InsufficientStock):
        place_order(user=user, lines=[(product.pk, 5)])
    assert short.delta == 1

    with outcome("invalid_cart") as invalid, pytest.raises(InvalidCart):
        place_order(user=user, lines=[])
    assert invalid.delta == 1


def test_a_cart_checkout_counts_once(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    product = ProductFactory(stock=5)
    client.force_login(user)
    client.post(f"/cart/add/{product.pk}/", {"quantity": 1})

    with outcome("placed") as placed, django_capture_on_commit_callbacks(execute=True):
        response = client.post("/checkout/", {"token": "0123456789abcdef0123456789abcdef"})

    assert response.status_code == 302
    assert placed.delta == 1


# Webhooks -------------------------------------------------------------------------------


def test_webhook_events_are_counted_with_their_lag(client, django_capture_on_commit_callbacks):
    order = place_order(user=UserFactory(), lines=[(ProductFactory(stock=3).pk, 1)])
    event = make_event("payment_intent.succeeded", intent_dict(order, pi_id="pi_metrics_1"))
    event["created"] -= 30  # Stripe made it 30 s ago

    kind = "payment_intent.succeeded"
    with (
        Delta("shop_webhook_events_total", type=kind, outcome="processed") as processed,
        Delta("shop_webhook_events_total", type=kind, outcome="duplicate") as duplicate,
        Delta("shop_webhook_event_lag_seconds_count", type=kind) as lag_count,
        Delta("shop_webhook_event_lag_seconds_sum", type=kind) as lag_sum,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert post_event(client, event).status_code == 200
        assert post_event(client, event).status_code == 200  # redelivered

    assert (processed.delta, duplicate.delta, lag_count.delta) == (1, 1, 1)
    assert 30 <= lag_sum.delta < 60


def test_failed_webhook_events_are_counted(client, monkeypatch):
    from payments import webhooks

    def broken(obj, event_type):
        raise RuntimeError("boom")

    monkeypatch.setitem(webhooks.HANDLERS, "charge.dispute.created", broken)
    event = make_event("charge.dispute.created", {"id": "dp_1", "object": "dispute"})

    with Delta("shop_webhook_events_total", type="charge.dispute.created", outcome="failed") as d:
        assert post_event(client, event).status_code == 500

    assert d.delta == 1


# Order transitions ----------------------------------------------------------------------


def transitions(name, source, target):
    return Delta("shop_order_transitions_total", transition=name, source=source, target=target)


def test_committed_transitions_are_counted(django_capture_on_commit_callbacks):
    user = UserFactory()
    product = ProductFactory(stock=5, price=Decimal("5.00"))
    order = place_order(user=user, lines=[(product.pk, 1)])
    assert order.status == Order.Status.CREATED  # Stripe unreachable in these tests

    with (
        transitions("cancel", "created", "cancelled") as cancelled,
        django_capture_on_commit_callbacks(execute=True),
    ):
        order_services.cancel_order(order=order, actor=user)

    assert cancelled.delta == 1


def test_expired_reservations_are_counted(django_capture_on_commit_callbacks):
    order = place_order(user=UserFactory(), lines=[(ProductFactory(stock=5).pk, 1)])
    Order.objects.filter(pk=order.pk).update(expires_at=order.created_at)

    with (
        Delta("shop_reservations_expired_total") as expired,
        transitions("expire", "created", "expired") as moved,
        django_capture_on_commit_callbacks(execute=True),
    ):
        order_services.expire_due_orders()

    assert (expired.delta, moved.delta) == (1, 1)


def test_a_rolled_back_transition_is_not_counted(django_capture_on_commit_callbacks):
    from django.db import transaction

    user = UserFactory()
    order = place_order(user=user, lines=[(ProductFactory(stock=5).pk, 1)])

    with (
        transitions("cancel", "created", "cancelled") as cancelled,
        django_capture_on_commit_callbacks(execute=True),
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        order_services.cancel_order(order=order, actor=user)
        raise RuntimeError("rolled back")

    assert cancelled.delta == 0
    assert Order.objects.get(pk=order.pk).status == Order.Status.CREATED


def test_reconciliation_fixes_counter_is_exposed(client):
    from payments.metrics import RECONCILIATION_FIXES

    RECONCILIATION_FIXES.labels(action="marked_paid").inc()

    body = client.get("/metrics").content.decode()
    assert 'shop_payment_reconciliation_fixes_total{action="marked_paid"}' in body


# The email outbox, read from the database at scrape time ---------------------------------


def test_the_email_outbox_is_exposed_as_gauges_read_at_each_scrape(client):
    waiting, retrying, gave_up, sent = (make_order() for _ in range(4))  # `placed` each
    OrderEmail.objects.filter(order=waiting).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )
    OrderEmail.objects.filter(order=retrying).update(attempts=3)
    OrderEmail.objects.filter(order=gave_up).update(attempts=OrderEmail.MAX_ATTEMPTS)
    OrderEmail.objects.filter(order=sent).update(sent_at=timezone.now(), attempts=1)

    body = client.get("/metrics").content.decode()

    assert 'shop_order_emails_unsent{state="pending"} 1.0' in body
    assert 'shop_order_emails_unsent{state="retrying"} 1.0' in body
    assert 'shop_order_emails_unsent{state="gave_up"} 1.0' in body
    oldest = re.search(r"^shop_order_email_oldest_pending_seconds (\S+)$", body, re.MULTILINE)
    assert 120 <= float(oldest.group(1)) < 180

    OrderEmail.objects.filter(order=waiting).update(sent_at=timezone.now())
    body = client.get("/metrics").content.decode()
    assert 'shop_order_emails_unsent{state="pending"} 0.0' in body
    assert re.search(r"^shop_order_email_oldest_pending_seconds 0\.0$", body, re.MULTILINE)


def test_metrics_still_answer_when_the_outbox_cannot_be_read(client, monkeypatch):
    def unreachable():
        raise OperationalError("the database is gone")

    monkeypatch.setattr("orders.selectors.email_outbox", unreachable)

    response = client.get("/metrics")

    body = response.content.decode()
    assert response.status_code == 200
    assert "shop_checkouts_total" in body
    assert "shop_order_emails_unsent" not in body


# Several gunicorn workers ---------------------------------------------------------------

WORKER = """
import django
django.setup()
from orders import metrics
metrics.CHECKOUTS.labels(outcome="placed").inc({n})
"""
SCRAPE = """
import django
django.setup()
from config import metrics
body, _ = metrics.render_latest()
print(body.decode())
"""


def run_python(code, env):
    return subprocess.run(  # noqa: S603 - the test's own code, with this interpreter
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )


def test_multiprocess_mode_adds_up_every_worker(tmp_path):
    db = connection.settings_dict
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    run_python(WORKER.format(n=2), env)
    run_python(WORKER.format(n=3), env)

    body = run_python(SCRAPE, env).stdout

    assert 'shop_checkouts_total{outcome="placed"} 5.0' in body
    # The outbox gauges come from the database, once, not summed over the workers.
    assert body.count("# TYPE shop_order_emails_unsent gauge") == 1
    assert 'shop_order_emails_unsent{state="pending"} 0.0' in body
