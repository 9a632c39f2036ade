"""Coupon uses under racing checkouts, cancels and expiries: real threads, real
PostgreSQL transactions, exact counts (the coupon row lock between the order row and
the inventory rows)."""

import random

import pytest

from orders import services
from orders.checkout import Delivery, place_order
from orders.models import Order
from orders.selectors import money_discrepancies, stock_discrepancies
from orders.tests.factories import make_due
from pricing.exceptions import CouponExhausted
from pricing.models import Coupon, CouponUse
from pricing.tests.factories import CouponFactory, ShippingMethodFactory
from shop.models import Inventory
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import AddressFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def errors_of(outcomes):
    return [value for kind, value in outcomes if kind == "error"]


def results_of(outcomes):
    return [value for kind, value in outcomes if kind == "ok"]


def test_fifty_checkouts_against_ten_uses_left_make_exactly_ten_orders():
    product = ProductFactory(stock=100)
    coupon = CouponFactory(code="TEN", max_uses=12)
    for _ in range(2):  # 10 uses left
        place_order(user=UserFactory(), lines=[(product.pk, 1)], delivery=Delivery(coupon="TEN"))
    buyers = [UserFactory() for _ in range(50)]

    outcomes = run_concurrently(
        *[
            lambda u=u: place_order(
                user=u, lines=[(product.pk, 1)], delivery=Delivery(coupon="ten")
            )
            for u in buyers
        ]
    )

    orders = results_of(outcomes)
    errors = errors_of(outcomes)
    assert len(orders) == 10
    assert len(errors) == 40 and all(isinstance(e, CouponExhausted) for e in errors), errors
    coupon.refresh_from_db()
    assert coupon.uses == 12
    assert CouponUse.objects.count() == 12
    assert Order.objects.filter(coupon_code="TEN").count() == Order.objects.count() == 12
    inv = Inventory.objects.get(pk=product.pk)
    assert (inv.available, inv.reserved) == (88, 12)  # the 40 refused reserved nothing
    assert stock_discrepancies() == []
    assert money_discrepancies() == []


def test_one_customers_parallel_checkouts_never_pass_the_per_customer_limit():
    product = ProductFactory(stock=100)
    CouponFactory(code="TWICE", max_uses_per_customer=2)
    customer = UserFactory()

    outcomes = run_concurrently(
        *[
            lambda: place_order(
                user=customer, lines=[(product.pk, 1)], delivery=Delivery(coupon="twice")
            )
            for _ in range(10)
        ]
    )

    assert len(results_of(outcomes)) == 2
    assert all(isinstance(e, CouponExhausted) for e in errors_of(outcomes))
    assert Coupon.objects.get().uses == 2
    assert Inventory.objects.get(pk=product.pk).reserved == 2


def test_mixed_carts_and_coupons_do_not_deadlock():
    products = [ProductFactory(stock=1000, requires_shipping=True) for _ in range(4)]
    ShippingMethodFactory(code="std", countries=["DE"])
    codes = ["ALPHA", "BETA"]
    for code in codes:
        CouponFactory(code=code)
    users = [UserFactory() for _ in range(16)]
    addresses = {u.pk: AddressFactory(user=u).pk for u in users}
    forward = [(p.pk, 1) for p in products]

    def checkout(i, user):
        rng = random.Random(i)
        lines = rng.sample(forward, rng.randint(2, 4))
        rng.shuffle(lines)
        coupon = [None, *codes][i % 3]
        # Cancel the previous order too: give-backs lock coupon rows while checkouts do.
        first = place_order(
            user=user,
            lines=lines,
            delivery=Delivery(
                shipping_address_id=addresses[user.pk], shipping_method="std", coupon=coupon
            ),
        )
        services.cancel_order(order=first, actor=user)
        return place_order(
            user=user,
            lines=list(reversed(lines)),
            delivery=Delivery(
                shipping_address_id=addresses[user.pk],
                shipping_method="std",
                coupon=codes[i % 2],
            ),
        )

    outcomes = run_concurrently(*[lambda i=i, u=u: checkout(i, u) for i, u in enumerate(users)])

    assert errors_of(outcomes) == []
    assert Order.objects.filter(status=Order.Status.CANCELLED).count() == 16
    assert Order.objects.filter(status=Order.Status.CREATED).count() == 16
    assert {c.code: c.uses for c in Coupon.objects.all()} == {"ALPHA": 8, "BETA": 8}
    assert CouponUse.objects.count() == 16
    assert stock_discrepancies() == []
    assert money_discrepancies() == []


def test_racing_cancel_and_expiry_give_each_use_back_exactly_once():
    product = ProductFactory(stock=100)
    coupon = CouponFactory(code="RACE", max_uses=20)
    users = [UserFactory() for _ in range(10)]
    orders = [
        place_order(user=u, lines=[(product.pk, 1)], delivery=Delivery(coupon="race"))
        for u in users
    ]
    for order in orders:
        make_due(order)

    calls = []
    for order in orders:
        calls.append(lambda o=order: services.cancel_order(order=o, actor=o.user))
        calls.append(lambda o=order: services.expire_order(order=o))
        calls.append(lambda o=order: services.expire_order(order=o))
    outcomes = run_concurrently(*calls)

    ended = Order.objects.filter(status__in=[Order.Status.CANCELLED, Order.Status.EXPIRED])
    assert ended.count() == 10
    # Each order ended once; the losers found it ended (InvalidTransition) or not due.
    assert all(type(e).__name__ == "InvalidTransition" for e in errors_of(outcomes))
    coupon.refresh_from_db()
    assert coupon.uses == 0
    assert CouponUse.objects.count() == 0
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="coupon.released").count() == 10
    inv = Inventory.objects.get(pk=product.pk)
    assert (inv.available, inv.reserved) == (100, 0)
