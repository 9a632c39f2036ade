"""Coupon uses under racing checkouts, cancels and expiries: real threads, real
PostgreSQL transactions, exact counts (the coupon row lock between the order row and
the inventory rows)."""

import random
import threading
import time

import pytest
from django.db import connection, transaction

from orders import services
from orders.checkout import Delivery, place_order
from orders.models import Order
from orders.selectors import money_discrepancies, stock_discrepancies
from orders.tests.factories import make_due
from pricing import services as pricing_services
from pricing.exceptions import CouponExhausted
from pricing.models import Coupon, CouponUse
from pricing.selectors import coupon_discrepancies
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
    # Unlimited coupons keep no count: their use rows are it.
    held = {c.code: c.use_rows.count() for c in Coupon.objects.all()}
    assert held == {"ALPHA": 8, "BETA": 8}
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


def hold_a_use(code: str, holding, release):
    """A checkout with `code` that keeps its transaction open until `release` is set."""

    def checkout():
        with transaction.atomic():
            place_order(
                user=UserFactory(),
                lines=[(ProductFactory(stock=5).pk, 1)],
                delivery=Delivery(coupon=code),
            )
            holding.set()
            assert release.wait(30)

    return checkout


def with_lock_timeout(call):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1s'")
        return call()


@pytest.mark.parametrize(("limits", "waits"), [({}, False), ({"max_uses": 100}, True)])
def test_an_unlimited_coupons_checkouts_do_not_wait_for_each_other(limits, waits):
    CouponFactory(code="ALL", **limits)
    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_a_use("ALL", holding, release))
    holder.start()
    try:
        assert holding.wait(30)
        # A second checkout with the same code while the first is still open.
        second = run_concurrently(
            lambda: with_lock_timeout(
                lambda: place_order(
                    user=UserFactory(),
                    lines=[(ProductFactory(stock=5).pk, 1)],
                    delivery=Delivery(coupon="ALL"),
                )
            )
        )
    finally:
        release.set()
        holder.join()

    if waits:  # a limited coupon's count is kept under its row lock: the second waits
        assert [type(e).__name__ for e in errors_of(second)] == ["OperationalError"]
    else:
        assert errors_of(second) == []
    assert CouponUse.objects.count() == (1 if waits else 2)


def test_staff_limiting_a_coupon_wait_for_its_checkouts_and_count_them():
    coupon = CouponFactory(code="ALL")
    for _ in range(3):
        place_order(
            user=UserFactory(),
            lines=[(ProductFactory(stock=5).pk, 1)],
            delivery=Delivery(coupon="ALL"),
        )
    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_a_use("ALL", holding, release))
    holder.start()
    assert holding.wait(30)
    coupon.max_uses = 5
    limiting = run_concurrently(
        lambda: pricing_services.update_pricing_rule(
            rule=coupon, actor=UserFactory(), fields=["max_uses"]
        ),
        lambda: (time.sleep(0.5), release.set()),  # the open checkout commits meanwhile
    )
    holder.join()

    assert errors_of(limiting) == []
    coupon.refresh_from_db()
    assert (coupon.max_uses, coupon.uses) == (5, 4)  # the held use counted too
    assert coupon_discrepancies() == []
    # Limited now: one use left, then exhausted.
    buyers = [UserFactory() for _ in range(4)]
    outcomes = run_concurrently(
        *[
            lambda u=u: place_order(
                user=u, lines=[(ProductFactory(stock=5).pk, 1)], delivery=Delivery(coupon="ALL")
            )
            for u in buyers
        ]
    )
    assert len(results_of(outcomes)) == 1
    coupon.refresh_from_db()
    assert coupon.uses == CouponUse.objects.count() == 5
