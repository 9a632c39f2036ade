"""The Celery app: the beat schedule of every periodic job, and eager tasks without a broker."""

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings

from config.celery import app

pytestmark = pytest.mark.django_db


def test_beat_schedules_every_periodic_job_on_a_registered_task():
    schedule = app.conf.beat_schedule
    app.loader.import_default_modules()
    assert {name: entry["task"] for name, entry in schedule.items()} == {
        "dispatch-order-emails": "orders.tasks.dispatch_order_emails",
        "expire-orders": "orders.tasks.expire_orders",
        "reconcile-payments": "payments.tasks.reconcile_payments",
        "check-stock-drift": "orders.tasks.check_stock_drift",
        "check-wallet-drift": "wallets.tasks.check_wallet_drift",
        "flush-expired-tokens": "shop.tasks.flush_expired_tokens",
        "prune-webhook-payloads": "payments.tasks.prune_webhook_payloads",
    }
    for entry in schedule.values():
        assert entry["task"] in app.tasks
    assert schedule["expire-orders"]["schedule"] == 60
    # A lost webhook is applied well before the order's reservation would run out.
    assert schedule["reconcile-payments"]["schedule"] == 120
    assert schedule["reconcile-payments"]["schedule"] < settings.RESERVATION_TTL.total_seconds() / 3
    for job in ("check-stock-drift", "check-wallet-drift"):
        nightly = schedule[job]["schedule"]
        assert isinstance(nightly, crontab) and nightly.hour == {3}
    # A run nobody picked up before the next one is due is dropped, not piled up.
    assert schedule["expire-orders"]["options"]["expires"] < timedelta(minutes=1).seconds


def test_tasks_run_eagerly_without_a_broker(settings):
    # The test environment has no CELERY_BROKER_URL or REDIS_URL: in-memory, eager.
    assert settings.CELERY_BROKER_URL == "memory://"
    assert app.conf.task_always_eager is True
    assert app.conf.task_eager_propagates is False
