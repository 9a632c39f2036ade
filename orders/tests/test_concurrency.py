"""Concurrency claims, proven with real threads and real PostgreSQL transactions."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from orders import services
from orders.checkout import place_order
from orders.exceptions import InvalidTransition
from orders.models import Order
from orders.selectors import stock_discrepancies
from shop.exceptions import InsufficientStock
from shop.models import Inventory
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def errors_of(outcomes):
    return [value for kind, value in outcomes if kind == "error"]


def results_of(outcomes):
    return [value for kind, value in outcomes if kind == "ok"]


def test_twenty_buyers_five_in_stock_exactly_five_orders():
    product = ProductFactory(stock=5)
    buyers = [UserFactory() for _ in range(20)]

    outcomes = run_concurrently(
        *[lambda u=u: place_order(user=u, lines=[(product.pk, 1)]) for u in buyers]
    )

    assert len(results_of(outcomes)) == 5
    errors = errors_of(outcomes)
    assert len(errors) == 15
    assert all(isinstance(e, InsufficientStock) for e in errors), errors
    assert all(e.product_id == product.pk and e.available == 0 for e in errors)
    inv = Inventory.objects.get(pk=product.pk)
    assert (inv.available, inv.reserved) == (0, 5)
    assert Order.objects.count() == 5
    assert stock_discrepancies() == []


def test_carts_with_the_same_products_in_opposite_order_do_not_deadlock():
    products = [ProductFactory(stock=1000) for _ in range(4)]
    forward = [(p.pk, 1) for p in products]
    backward = list(reversed(forward))
    users = [UserFactory() for _ in range(16)]

    outcomes = run_concurrently(
        *[
            lambda u=u, lines=(forward if i % 2 else backward): place_order(user=u, lines=lines)
            for i, u in enumerate(users)
        ]
    )

    assert errors_of(outcomes) == []
    assert Order.objects.count() == 16
    for product in products:
        inv = Inventory.objects.get(pk=product.pk)
        assert (inv.available, inv.reserved) == (1000 - 16, 16)
    assert stock_discrepancies() == []


def test_same_idempotency_key_sent_concurrently_makes_one_order():
    product = ProductFactory(stock=50)
    user = UserFactory()

    outcomes = run_concurrently(
        *[
            lambda: place_order(user=user, lines=[(product.pk, 2)], idempotency_key="key-1")
            for _ in range(10)
        ]
    )

    assert errors_of(outcomes) == []
    orders = results_of(outcomes)
    assert len({o.pk for o in orders}) == 1
    assert sum(not o.replayed for o in orders) == 1
    assert Order.objects.count() == 1
    inv = Inventory.objects.get(pk=product.pk)
    assert (inv.available, inv.reserved) == (48, 2)


def _make_due(order):
    # Time travel for the test: the reservation ran out.
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_racing_expiry_of_one_order_releases_stock_once():
    product = ProductFactory(stock=10)
    order = place_order(user=UserFactory(), lines=[(product.pk, 4)])
    _make_due(order)

    outcomes = run_concurrently(*[lambda: services.expire_order(order=order) for _ in range(6)])

    assert errors_of(outcomes) == []
    assert sorted(results_of(outcomes)) == [False] * 5 + [True]
    inv = Inventory.objects.get(pk=product.pk)
    assert (inv.available, inv.reserved) == (10, 0)
    assert Order.objects.get(pk=order.pk).status == Order.Status.EXPIRED


def test_racing_expiry_runs_expire_each_order_exactly_once():
    product = ProductFactory(stock=100)
    orders = [place_order(user=UserFactory(), lines=[(product.pk, 2)]) for _ in range(20)]
    for order in orders:
        _make_due(order)

    outcomes = run_concurrently(*[services.expire_due_orders for _ in range(3)])

    assert errors_of(outcomes) == []
    assert sum(results_of(outcomes)) == 20
    inv = Inventory.objects.get(pk=product.pk)
    assert (inv.available, inv.reserved) == (100, 0)
    assert Order.objects.filter(status=Order.Status.EXPIRED).count() == 20


def test_randomized_checkouts_cancels_expiries_and_payments_conserve_stock():
    """At least 200 operations from 8 threads; every product's stock adds up at the end."""
    products = [ProductFactory(stock=random.randint(5, 30)) for _ in range(6)]
    staff = StaffFactory()
    users = [UserFactory() for _ in range(8)]
    operations_per_worker = 30
    expected = (InsufficientStock, InvalidTransition)

    def worker(user, seed):
        rng = random.Random(seed)
        mine: list[Order] = []
        counts = {"done": 0, "expected_errors": 0}
        for _ in range(operations_per_worker):
            op = rng.choices(
                ["checkout", "cancel", "expire", "pay", "fulfil", "refund"],
                weights=[5, 2, 2, 2, 1, 1],
            )[0]
            try:
                if op == "checkout" or not mine:
                    chosen = rng.sample(products, rng.randint(1, 3))
                    lines = [(p.pk, rng.randint(1, 4)) for p in chosen]
                    mine.append(place_order(user=user, lines=lines))
                elif op == "cancel":
                    services.cancel_order(order=rng.choice(mine), actor=user)
                elif op == "expire":
                    _make_due(rng.choice(mine))
                    services.expire_due_orders(limit=2)
                elif op == "pay":
                    services.mark_paid(order=rng.choice(mine))
                elif op == "fulfil":
                    services.fulfil_order(order=rng.choice(mine), actor=staff)
                else:
                    services.refund_order(
                        order=rng.choice(mine), actor=staff, restock=rng.random() < 0.5
                    )
            except expected:
                counts["expected_errors"] += 1
            counts["done"] += 1
        return counts

    outcomes = run_concurrently(
        *[lambda u=u, s=i: worker(u, s) for i, u in enumerate(users)], timeout=120
    )

    assert errors_of(outcomes) == []
    assert sum(r["done"] for r in results_of(outcomes)) == 8 * operations_per_worker >= 200
    assert stock_discrepancies() == []
    # The run really moved stock through every path, not only failed checkouts.
    statuses = set(Order.objects.values_list("status", flat=True))
    assert {Order.Status.CANCELLED, Order.Status.EXPIRED, Order.Status.PAID} <= statuses
