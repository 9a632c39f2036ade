"""The payments' Celery tasks (run eagerly here): reconciliation and payload retention."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order
from payments import services, tasks
from payments.models import Payment, WebhookEvent
from payments.tests.helpers import checkout, confirm, fresh, payment_of, settle
from shop.tests.celery import run_task
from shop.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def event(status, days_old, event_id):
    stored = WebhookEvent.objects.create(
        stripe_event_id=event_id,
        type="payment_intent.succeeded",
        payload={"id": event_id, "data": {"object": {}}},
        status=status,
    )
    WebhookEvent.objects.filter(pk=stored.pk).update(
        received_at=timezone.now() - timedelta(days=days_old)
    )
    return stored


def payload_of(stored):
    return WebhookEvent.objects.get(pk=stored.pk).payload


def test_prune_empties_only_processed_payloads_past_retention(settings):
    settings.WEBHOOK_PAYLOAD_RETENTION_DAYS = 30
    P, F, R = (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.FAILED,
               WebhookEvent.Status.RECEIVED)  # fmt: skip
    old_done = event(P, 31, "evt_old_done")
    new_done = event(P, 29, "evt_new_done")
    old_failed = event(F, 90, "evt_old_failed")
    old_received = event(R, 90, "evt_old_received")

    assert run_task(tasks.prune_webhook_payloads) == 1
    assert payload_of(old_done) is None
    assert payload_of(new_done) == {"id": "evt_new_done", "data": {"object": {}}}
    assert payload_of(old_failed) is not None
    assert payload_of(old_received) is not None
    # Idempotent: the next day finds nothing new.
    assert run_task(tasks.prune_webhook_payloads) == 0


def test_prune_works_in_batches():
    for n in range(5):
        event(WebhookEvent.Status.PROCESSED, 40, f"evt_batch_{n}")
    assert services.prune_webhook_payloads(older_than=timedelta(days=30), batch_size=2) == 5
    assert not WebhookEvent.objects.filter(payload__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_reconcile_task_applies_a_payment_whose_webhook_was_lost(stripe_sim):
    product = ProductFactory(stock=3)
    order = checkout(product, quantity=1)
    confirm(stripe_sim, payment_of(order).stripe_payment_intent_id)  # no webhook delivered
    settle(stripe_sim)
    assert fresh(order.pk).status == Order.Status.PAYMENT_PENDING

    # Younger than the task's 10-minute threshold: left alone.
    assert run_task(tasks.reconcile_payments) == 0
    assert fresh(order.pk).status == Order.Status.PAYMENT_PENDING

    Payment.objects.filter(order=order).update(created_at=timezone.now() - timedelta(minutes=11))
    assert run_task(tasks.reconcile_payments) == 1
    assert fresh(order.pk).status == Order.Status.PAID
