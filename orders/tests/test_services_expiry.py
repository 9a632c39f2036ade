"""Expiry (orders.services.expire_order, expire_due_orders and the expire_orders command):
only due orders that hold stock expire, and their stock is released once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from orders import services
from orders.models import Order
from orders.tests.factories import make_due, make_order
from shop.models import Inventory
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Order.Status


def stock(product) -> tuple[int, int, int]:
    inv = Inventory.objects.get(product=product)
    return inv.available, inv.reserved, inv.received


def status_of(order) -> str:
    return Order.objects.get(pk=order.pk).status


@pytest.fixture
def customer():
    return UserFactory()


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def products():
    return ProductFactory(stock=10), ProductFactory(stock=5)


def order_for(customer, products, status=S.CREATED):
    a, b = products
    return make_order(user=customer, lines=[(a.pk, 3), (b.pk, 2)], status=status)


def test_expire_order_not_due_returns_false_and_changes_nothing(customer, products):
    a, _ = products
    order = order_for(customer, products, S.PAYMENT_PENDING)

    assert services.expire_order(order=order) is False

    assert status_of(order) == S.PAYMENT_PENDING
    assert stock(a) == (7, 3, 10)


@pytest.mark.parametrize("status", [S.CREATED, S.PAYMENT_PENDING])
def test_expire_due_order_releases_stock_once(customer, products, status):
    a, b = products
    order = order_for(customer, products, status)
    make_due(order)

    assert services.expire_order(order=order) is True
    assert status_of(order) == S.EXPIRED
    assert stock(a) == (10, 0, 10)
    assert stock(b) == (5, 0, 5)

    assert services.expire_order(order=order) is False
    assert stock(a) == (10, 0, 10)
    assert AuditEvent.objects.filter(action="order.expire").count() == 1


@pytest.mark.parametrize("status", [S.PAID, S.CANCELLED, S.FAILED])
def test_expire_order_ignores_orders_that_hold_no_stock(customer, products, status):
    a, _ = products
    order = order_for(customer, products, status)
    make_due(order)
    before = stock(a)

    assert services.expire_order(order=order) is False

    assert status_of(order) == status
    assert stock(a) == before


def test_expire_due_orders_expires_only_due_unpaid_orders(customer, products):
    a, b = products
    c = ProductFactory(stock=10)
    due_created = order_for(customer, products, S.CREATED)
    due_pending = order_for(customer, products, S.PAYMENT_PENDING)
    not_due = make_order(user=customer, lines=[(a.pk, 1)], status=S.PAYMENT_PENDING)
    paid = make_order(user=customer, lines=[(c.pk, 1)], status=S.PAID)
    cancelled = make_order(user=customer, lines=[(c.pk, 2)], status=S.CANCELLED)
    for order in (due_created, due_pending, paid, cancelled):
        make_due(order)
    # a: 3 + 3 (due) + 1 (not due) reserved; b: 2 + 2 reserved; c: 1 sold.
    assert stock(a) == (3, 7, 10)
    assert stock(b) == (1, 4, 5)
    assert stock(c) == (9, 0, 10)

    assert services.expire_due_orders() == 2

    assert status_of(due_created) == S.EXPIRED
    assert status_of(due_pending) == S.EXPIRED
    assert status_of(not_due) == S.PAYMENT_PENDING
    assert status_of(paid) == S.PAID
    assert status_of(cancelled) == S.CANCELLED
    assert stock(a) == (9, 1, 10)
    assert stock(b) == (5, 0, 5)
    assert stock(c) == (9, 0, 10)
    assert services.expire_due_orders() == 0


def test_expire_due_orders_respects_the_limit(customer):
    product = ProductFactory(stock=10)
    orders = [
        make_order(user=customer, lines=[(product.pk, 1)], status=S.PAYMENT_PENDING)
        for _ in range(3)
    ]
    for order in orders:
        make_due(order)

    assert services.expire_due_orders(limit=2) == 2
    assert Order.objects.filter(status=S.EXPIRED).count() == 2
    assert services.expire_due_orders(limit=2) == 1
    assert stock(product) == (10, 0, 10)


def test_expire_orders_command_expires_due_orders_and_prints_the_count(customer, products):
    a, _ = products
    due = [order_for(customer, products, S.PAYMENT_PENDING) for _ in range(2)]
    fresh = make_order(user=customer, lines=[(a.pk, 1)], status=S.PAYMENT_PENDING)
    for order in due:
        make_due(order)
    out = StringIO()

    call_command("expire_orders", stdout=out)

    assert out.getvalue().strip() == "Expired 2 order(s)."
    assert [status_of(o) for o in due] == [S.EXPIRED, S.EXPIRED]
    assert status_of(fresh) == S.PAYMENT_PENDING
    assert stock(a) == (9, 1, 10)


def test_expire_orders_command_with_limit(customer):
    product = ProductFactory(stock=10)
    for _ in range(3):
        make_due(make_order(user=customer, lines=[(product.pk, 1)], status=S.PAYMENT_PENDING))
    out = StringIO()

    call_command("expire_orders", "--limit", "1", stdout=out)

    assert out.getvalue().strip() == "Expired 1 order(s)."
    assert Order.objects.filter(status=S.EXPIRED).count() == 1


def test_expires_at_in_the_future_is_not_due(customer, products):
    order = order_for(customer, products, S.PAYMENT_PENDING)
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() + timedelta(seconds=30))
    assert services.expire_order(order=order) is False
    assert services.expire_due_orders() == 0
