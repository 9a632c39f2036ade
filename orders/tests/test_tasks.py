"""The orders' Celery tasks (run eagerly here) and the beat schedule."""

from datetime import timedelta

import pytest
from celery.schedules import crontab

from audit.models import AuditEvent
from config.celery import app
from orders import tasks
from orders.models import Order
from orders.tests.factories import make_due, make_order
from shop.models import Inventory
from shop.tests.celery import run_task
from shop.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


S = Order.Status


def test_expire_orders_task_expires_due_orders_and_releases_their_stock():
    product = ProductFactory(stock=5)
    due = make_order(lines=[(product.pk, 2)], status=S.PAYMENT_PENDING)
    not_due = make_order(lines=[(product.pk, 1)])
    make_due(due)

    assert run_task(tasks.expire_orders) == 1
    assert Order.objects.get(pk=due.pk).status == S.EXPIRED
    assert Order.objects.get(pk=not_due.pk).status == S.CREATED
    inv = Inventory.objects.get(product=product)
    assert (inv.available, inv.reserved) == (4, 1)
    # Idempotent: a second run (another worker, the next minute) changes nothing.
    assert run_task(tasks.expire_orders) == 0


def test_check_stock_drift_task_reports_the_drifted_products():
    product = ProductFactory(stock=5)
    make_order(lines=[(product.pk, 1)])
    Inventory.objects.filter(product=product).update(reserved=3, available=2)

    assert run_task(tasks.check_stock_drift) == 1
    assert AuditEvent.objects.filter(
        action="inventory.drift_detected", entity_id=str(product.pk)
    ).exists()


def test_beat_schedules_every_periodic_job_on_a_registered_task():
    schedule = app.conf.beat_schedule
    app.loader.import_default_modules()
    assert {name: entry["task"] for name, entry in schedule.items()} == {
        "dispatch-order-emails": "orders.tasks.dispatch_order_emails",
        "expire-orders": "orders.tasks.expire_orders",
        "reconcile-payments": "payments.tasks.reconcile_payments",
        "check-stock-drift": "orders.tasks.check_stock_drift",
        "flush-expired-tokens": "shop.tasks.flush_expired_tokens",
        "prune-webhook-payloads": "payments.tasks.prune_webhook_payloads",
    }
    for entry in schedule.values():
        assert entry["task"] in app.tasks
    assert schedule["expire-orders"]["schedule"] == 60
    assert schedule["reconcile-payments"]["schedule"] == 600
    nightly = schedule["check-stock-drift"]["schedule"]
    assert isinstance(nightly, crontab) and nightly.hour == {3}
    # A run nobody picked up before the next one is due is dropped, not piled up.
    assert schedule["expire-orders"]["options"]["expires"] < timedelta(minutes=1).seconds


def test_tasks_run_eagerly_without_a_broker(settings):
    # The test environment has no CELERY_BROKER_URL or REDIS_URL: in-memory, eager.
    assert settings.CELERY_BROKER_URL == "memory://"
    assert app.conf.task_always_eager is True
    assert app.conf.task_eager_propagates is False
