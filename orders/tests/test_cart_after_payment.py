"""The cart survives an unpaid order: checkout leaves it as it is, the payment takes the
paid units out of it (orders.services._after_payment, shop.cart.remove_purchased)."""

import pytest

from orders import services
from orders.checkout import checkout_cart
from orders.models import Order
from orders.tests.factories import make_due, make_order
from shop import cart
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Order.Status


def cart_of(user) -> dict[int, int]:
    return {line.product.pk: line.quantity for line in cart.get_cart(user=user).lines}


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def mug():
    return ProductFactory(stock=10)


@pytest.fixture
def pen():
    return ProductFactory(stock=10)


def test_checkout_from_the_cart_leaves_the_cart_as_it_was(buyer, mug, pen):
    cart.set_quantity(product_id=mug.pk, quantity=2, user=buyer)
    cart.set_quantity(product_id=pen.pk, quantity=1, user=buyer)

    order = checkout_cart(user=buyer)

    assert order.items.count() == 2
    assert cart_of(buyer) == {mug.pk: 2, pen.pk: 1}


def test_the_payment_takes_the_paid_lines_out_of_the_cart(buyer, mug, pen):
    cart.set_quantity(product_id=mug.pk, quantity=2, user=buyer)
    cart.set_quantity(product_id=pen.pk, quantity=1, user=buyer)
    order = checkout_cart(user=buyer)

    services.mark_paid(order=services.start_payment(order=order))

    assert cart_of(buyer) == {}


def test_what_was_added_after_the_checkout_stays_in_the_cart(buyer, mug, pen):
    other = ProductFactory(stock=10)
    cart.set_quantity(product_id=mug.pk, quantity=2, user=buyer)
    cart.set_quantity(product_id=pen.pk, quantity=3, user=buyer)
    order = checkout_cart(user=buyer)
    cart.set_quantity(product_id=mug.pk, quantity=5, user=buyer)  # three more mugs
    cart.set_quantity(product_id=pen.pk, quantity=1, user=buyer)  # fewer pens than paid for
    cart.set_quantity(product_id=other.pk, quantity=4, user=buyer)

    services.mark_paid(order=services.start_payment(order=order))

    assert cart_of(buyer) == {mug.pk: 3, other.pk: 4}


def test_only_the_buyers_cart_changes(buyer, mug):
    neighbour = UserFactory()
    cart.set_quantity(product_id=mug.pk, quantity=1, user=neighbour)

    make_order(user=buyer, lines=[(mug.pk, 1)], status=S.PAID)

    assert cart_of(neighbour) == {mug.pk: 1}


@pytest.mark.parametrize("status", [S.CANCELLED, S.EXPIRED, S.FAILED])
def test_an_order_that_ends_unpaid_leaves_the_cart_ready_to_try_again(buyer, mug, status):
    cart.set_quantity(product_id=mug.pk, quantity=2, user=buyer)
    make_order(user=buyer, lines=[(mug.pk, 2)], status=status)

    assert cart_of(buyer) == {mug.pk: 2}
    again = checkout_cart(user=buyer)
    assert [(i.product_id, i.quantity) for i in again.items.all()] == [(mug.pk, 2)]


def test_a_late_payment_takes_the_lines_out_of_the_cart(buyer, mug):
    cart.set_quantity(product_id=mug.pk, quantity=2, user=buyer)
    order = checkout_cart(user=buyer)
    make_due(order)
    assert services.expire_order(order=order) is True
    assert cart_of(buyer) == {mug.pk: 2}

    assert services.recover_late_payment(order=order) is True

    assert cart_of(buyer) == {}


def test_a_late_payment_that_cannot_be_accepted_leaves_the_cart(buyer, mug):
    cart.set_quantity(product_id=mug.pk, quantity=2, user=buyer)
    order = checkout_cart(user=buyer)
    services.cancel_order(order=order, actor=buyer)
    make_order(lines=[(mug.pk, 10)])  # someone else takes every mug

    assert services.recover_late_payment(order=order) is False

    assert cart_of(buyer) == {mug.pk: 2}


@pytest.mark.django_db(transaction=True)
def test_payments_racing_for_one_cart_each_take_exactly_their_units():
    buyer = UserFactory()
    mug, pen = ProductFactory(stock=20), ProductFactory(stock=20)
    cart.set_quantity(product_id=mug.pk, quantity=9, user=buyer)
    cart.set_quantity(product_id=pen.pk, quantity=9, user=buyer)
    orders = [
        make_order(user=buyer, lines=lines, status=S.PAYMENT_PENDING)
        for lines in (
            [(mug.pk, 1), (pen.pk, 2)],
            [(mug.pk, 2)],
            [(pen.pk, 1), (mug.pk, 1)],
            [(pen.pk, 3)],
        )
    ]

    outcomes = run_concurrently(*[lambda o=o: services.mark_paid(order=o) for o in orders])

    assert [kind for kind, _ in outcomes] == ["ok"] * 4
    assert cart_of(buyer) == {mug.pk: 9 - 4, pen.pk: 9 - 6}
