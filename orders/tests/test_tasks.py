"""The orders' Celery tasks (run eagerly here)."""

import pytest

from audit.models import AuditEvent
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
