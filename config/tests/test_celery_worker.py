"""End to end through a real Celery worker and the Redis broker on 127.0.0.1:6379.

The rest of the suite runs tasks eagerly; here the tasks travel through Redis to a worker
(celery's embedded test worker, in a thread of this process) exactly as in production.
Each run consumes from its own queue, so concurrent runs on one Redis never steal tasks.
"""

import os
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from celery.signals import task_postrun
from django.core import mail
from django.db import connection, transaction

from config.celery import app
from orders import emails, tasks
from orders.models import Order, OrderEmail
from orders.tests.factories import make_due, make_order
from shop.models import Inventory
from shop.tests.factories import ProductFactory

BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/0")


def _close_worker_connection(**kwargs):
    # The worker thread opens its own database connection; close it after each task so
    # the test database can be flushed and dropped.
    connection.close()


@pytest.fixture
def celery_worker():
    queue = f"test-{uuid.uuid4().hex[:12]}"
    saved = {
        key: app.conf[key]
        for key in ("broker_url", "task_always_eager", "task_default_queue",
                    "worker_hijack_root_logger")
    }  # fmt: skip
    app.conf.update(
        broker_url=BROKER,
        task_always_eager=False,
        task_default_queue=queue,
        worker_hijack_root_logger=False,
    )
    app.close()  # drop connection pools made for the old broker
    app.__dict__.pop("amqp", None)  # routing tables read task_default_queue afresh
    task_postrun.connect(_close_worker_connection, weak=False)
    try:
        with start_worker(app, queues=[queue], perform_ping_check=False, shutdown_timeout=20):
            yield queue
    finally:
        task_postrun.disconnect(_close_worker_connection)
        app.conf.update(saved)
        app.close()
        app.__dict__.pop("amqp", None)
        _purge(queue)


def _purge(queue):
    import redis

    redis.Redis.from_url(BROKER).delete(queue)


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_hands_the_outbox_to_a_worker_that_sends_each_email_once(
    celery_worker, settings
):
    assert app.conf.task_always_eager is False
    settings.EMAIL_SEND_ON_COMMIT = False  # as with a real broker
    product = ProductFactory(stock=5, name="Enamel jug")
    order = make_order(lines=[(product.pk, 1)])  # its `placed` email waits in the outbox
    assert OrderEmail.objects.get(order=order, kind="placed").sent_at is None

    def dispatch():
        result = tasks.dispatch_order_emails.apply_async(queue=celery_worker)
        assert not isinstance(result, EagerResult)  # it went through Redis

    def sent(kind):
        return OrderEmail.objects.filter(order=order, kind=kind, sent_at__isnull=False).exists()

    dispatch()
    assert wait_for(lambda: sent("placed"))
    with transaction.atomic():
        emails.enqueue(order_id=order.pk, kind="placed")  # the same event again
        emails.enqueue(order_id=order.pk, kind="fulfilled")
    dispatch()
    assert wait_for(lambda: sent("fulfilled"))
    assert sorted(m.subject for m in mail.outbox) == [
        f"Order {order.short_id} is on its way",
        f"We received your order {order.short_id}",
    ]
    assert "Enamel jug" in mail.outbox[0].body + mail.outbox[1].body


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_expiry_task_from_the_broker(celery_worker):
    product = ProductFactory(stock=4)
    order = make_order(lines=[(product.pk, 3)], status=Order.Status.PAYMENT_PENDING)
    make_due(order)

    result = tasks.expire_orders.apply_async(queue=celery_worker)
    assert not isinstance(result, EagerResult)  # it went through Redis
    assert wait_for(lambda: Order.objects.get(pk=order.pk).status == Order.Status.EXPIRED)
    inv = Inventory.objects.get(product=product)
    assert (inv.available, inv.reserved) == (4, 0)
