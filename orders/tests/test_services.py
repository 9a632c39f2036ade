"""The order lifecycle services: each one transition plus its stock and audit side effects
(expiry is in test_services_expiry)."""

import pytest

from audit.models import AuditEvent
from core.exceptions import NotPermitted
from orders import selectors, services
from orders.checkout import place_order
from orders.exceptions import InvalidTransition
from orders.models import Order
from orders.tests.factories import make_order
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


# --- start_payment ---------------------------------------------------------------------------


def test_start_payment_moves_created_to_payment_pending(customer, products):
    order = order_for(customer, products)
    returned = services.start_payment(order=order)
    assert returned.status == S.PAYMENT_PENDING
    assert status_of(order) == S.PAYMENT_PENDING
    with pytest.raises(InvalidTransition):
        services.start_payment(order=order)


# --- cancel_order ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.CREATED, S.PAYMENT_PENDING])
def test_owner_cancels_and_stock_is_released(customer, products, status):
    a, b = products
    order = order_for(customer, products, status)
    assert stock(a) == (7, 3, 10)

    returned = services.cancel_order(order=order, actor=customer)

    assert returned.status == S.CANCELLED
    assert status_of(order) == S.CANCELLED
    assert stock(a) == (10, 0, 10)
    assert stock(b) == (5, 0, 5)


def test_staff_may_cancel_a_customers_order(customer, staff, products):
    a, _ = products
    order = order_for(customer, products, S.PAYMENT_PENDING)
    services.cancel_order(order=order, actor=staff)
    assert status_of(order) == S.CANCELLED
    assert stock(a) == (10, 0, 10)


def test_other_customer_may_not_cancel(customer, products):
    a, _ = products
    order = order_for(customer, products, S.PAYMENT_PENDING)
    events = AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        services.cancel_order(order=order, actor=UserFactory())

    assert status_of(order) == S.PAYMENT_PENDING
    assert stock(a) == (7, 3, 10)
    assert AuditEvent.objects.count() == events


def test_second_cancel_is_an_invalid_transition_and_releases_nothing(customer, products):
    a, b = products
    order = order_for(customer, products)
    services.cancel_order(order=order, actor=customer)
    events = AuditEvent.objects.count()

    # `order` is the stale copy still saying "created": the service re-reads it under lock.
    assert order.status == S.CREATED
    with pytest.raises(InvalidTransition):
        services.cancel_order(order=order, actor=customer)

    assert stock(a) == (10, 0, 10)
    assert stock(b) == (5, 0, 5)
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("status", [S.PAID, S.FULFILLED, S.EXPIRED, S.FAILED, S.REFUNDED])
def test_cancel_is_refused_outside_created_and_payment_pending(customer, products, status):
    a, b = products
    order = order_for(customer, products, status)
    before = (stock(a), stock(b))
    with pytest.raises(InvalidTransition):
        services.cancel_order(order=order, actor=customer)
    assert status_of(order) == status
    assert (stock(a), stock(b)) == before


# --- fulfil_order ----------------------------------------------------------------------------


def test_staff_fulfils_a_paid_order(customer, staff, products):
    a, _ = products
    order = order_for(customer, products, S.PAID)

    returned = services.fulfil_order(order=order, actor=staff)

    assert returned.status == S.FULFILLED
    assert status_of(order) == S.FULFILLED
    assert stock(a) == (7, 0, 10)  # fulfilment moves no stock


def test_customer_may_not_fulfil_even_their_own_order(customer, products):
    order = order_for(customer, products, S.PAID)
    with pytest.raises(NotPermitted):
        services.fulfil_order(order=order, actor=customer)
    assert status_of(order) == S.PAID


@pytest.mark.parametrize(
    "status",
    [S.CREATED, S.PAYMENT_PENDING, S.FULFILLED, S.CANCELLED, S.EXPIRED, S.FAILED, S.REFUNDED],
)
def test_fulfil_only_from_paid(customer, staff, products, status):
    order = order_for(customer, products, status)
    with pytest.raises(InvalidTransition):
        services.fulfil_order(order=order, actor=staff)
    assert status_of(order) == status


# --- mark_paid -------------------------------------------------------------------------------


def test_mark_paid_commits_the_reserved_stock(customer, products):
    a, b = products
    order = order_for(customer, products, S.PAYMENT_PENDING)

    returned = services.mark_paid(order=order)

    assert returned.status == S.PAID
    assert status_of(order) == S.PAID
    assert stock(a) == (7, 0, 10)
    assert stock(b) == (3, 0, 5)


def test_mark_paid_from_created_passes_through_start_payment(customer, products):
    a, _ = products
    order = order_for(customer, products, S.CREATED)

    services.mark_paid(order=order)

    assert status_of(order) == S.PAID
    assert stock(a) == (7, 0, 10)
    actions = list(
        AuditEvent.objects.filter(entity_type="order", entity_id=str(order.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["order.created", "order.start_payment", "order.mark_paid"]


@pytest.mark.parametrize(
    "status", [S.PAID, S.FULFILLED, S.CANCELLED, S.EXPIRED, S.FAILED, S.REFUNDED]
)
def test_mark_paid_is_refused_outside_created_and_payment_pending(customer, products, status):
    a, b = products
    order = order_for(customer, products, status)
    before = (stock(a), stock(b))
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidTransition):
        services.mark_paid(order=order)

    assert status_of(order) == status
    assert (stock(a), stock(b)) == before
    assert AuditEvent.objects.count() == events


# --- fail_order ------------------------------------------------------------------------------


def test_fail_order_releases_the_stock(customer, products):
    a, b = products
    order = order_for(customer, products, S.PAYMENT_PENDING)

    returned = services.fail_order(order=order, reason="card_declined for good")

    assert returned.status == S.FAILED
    assert status_of(order) == S.FAILED
    assert stock(a) == (10, 0, 10)
    assert stock(b) == (5, 0, 5)
    event = AuditEvent.objects.get(action="order.fail")
    assert event.after == {"status": "failed", "reason": "card_declined for good"}


@pytest.mark.parametrize("status", [S.CREATED, S.PAID, S.CANCELLED])
def test_fail_only_from_payment_pending(customer, products, status):
    a, _ = products
    order = order_for(customer, products, status)
    before = stock(a)
    with pytest.raises(InvalidTransition):
        services.fail_order(order=order)
    assert status_of(order) == status
    assert stock(a) == before


# --- recover_late_payment --------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.EXPIRED, S.CANCELLED, S.FAILED])
def test_recover_late_payment_with_stock_left_marks_paid_and_commits(customer, products, status):
    a, b = products
    order = order_for(customer, products, status)
    assert stock(a) == (10, 0, 10)

    assert services.recover_late_payment(order=order) is True

    assert status_of(order) == S.PAID
    assert stock(a) == (7, 0, 10)
    assert stock(b) == (3, 0, 5)


def test_recover_late_payment_without_stock_returns_false_and_changes_nothing(customer, products):
    a, b = products
    order = order_for(customer, products, S.EXPIRED)
    # Someone else bought b meanwhile: 2 are needed, only 1 is left.
    place_order(user=UserFactory(), lines=[(b.pk, 4)])
    before = (stock(a), stock(b))
    events = AuditEvent.objects.count()

    assert services.recover_late_payment(order=order) is False

    assert status_of(order) == S.EXPIRED
    assert (stock(a), stock(b)) == before == ((10, 0, 10), (1, 4, 5))
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("status", [S.CREATED, S.PAYMENT_PENDING, S.PAID, S.REFUNDED])
def test_recover_late_payment_refuses_other_states(customer, products, status):
    order = order_for(customer, products, status)
    with pytest.raises(InvalidTransition):
        services.recover_late_payment(order=order)
    assert status_of(order) == status


# --- refund_order ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.PAID, S.FULFILLED])
def test_refund_without_restock_keeps_stock_out(customer, staff, products, status):
    a, b = products
    order = order_for(customer, products, status)

    returned = services.refund_order(order=order, actor=staff)

    assert returned.status == S.REFUNDED
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.restocked) == (S.REFUNDED, False)
    assert stock(a) == (7, 0, 10)
    assert stock(b) == (3, 0, 5)


@pytest.mark.parametrize("status", [S.PAID, S.FULFILLED])
def test_refund_with_restock_returns_the_goods(customer, staff, products, status):
    a, b = products
    order = order_for(customer, products, status)

    services.refund_order(order=order, actor=staff, restock=True)

    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.restocked) == (S.REFUNDED, True)
    # available goes back up; received is unchanged (the goods were counted once already)
    assert stock(a) == (10, 0, 10)
    assert stock(b) == (5, 0, 5)


@pytest.mark.parametrize("status", [S.CREATED, S.PAYMENT_PENDING, S.REFUNDED, S.CANCELLED])
def test_refund_only_from_paid_or_fulfilled(customer, staff, products, status):
    a, _ = products
    order = order_for(customer, products, status)
    before = stock(a)
    with pytest.raises(InvalidTransition):
        services.refund_order(order=order, actor=staff, restock=True)
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.restocked) == (status, False)
    assert stock(a) == before


# --- flag_for_review -------------------------------------------------------------------------


def test_flag_for_review_sets_the_flag_and_keeps_the_status(customer, products):
    order = order_for(customer, products, S.PAID)

    services.flag_for_review(order=order, reason="amount mismatch")
    returned = services.flag_for_review(order=order, reason="dispute opened")

    stored = Order.objects.get(pk=order.pk)
    assert stored.status == S.PAID
    assert stored.needs_review is True
    assert stored.review_reason == "amount mismatch\ndispute opened"
    assert returned.review_reason == stored.review_reason
    events = AuditEvent.objects.filter(action="order.flagged").order_by("id")
    assert [e.after["review_reason"] for e in events] == [
        "amount mismatch",
        "amount mismatch\ndispute opened",
    ]
    assert events[0].before == {"needs_review": False, "review_reason": ""}


# --- helpers ---------------------------------------------------------------------------------


def test_order_quantities_lists_each_product(customer, products):
    a, b = products
    order = order_for(customer, products)
    assert selectors.order_quantities(order) == {a.pk: 3, b.pk: 2}


def test_services_return_a_fresh_copy_of_a_stale_order(customer, products):
    order = order_for(customer, products, S.PAYMENT_PENDING)
    stale = Order.objects.get(pk=order.pk)
    services.mark_paid(order=order)

    # The stale copy still says payment_pending, yet the service sees the truth.
    assert stale.status == S.PAYMENT_PENDING
    with pytest.raises(InvalidTransition):
        services.mark_paid(order=stale)
    assert services.fulfil_order(order=stale, actor=StaffFactory()).status == S.FULFILLED


# --- conservation ------------------------------------------------------------------------------


def test_stock_is_conserved_across_every_lifecycle(customer, staff):
    """received == available + reserved + sold after orders end in every state."""
    from orders.selectors import stock_discrepancies
    from shop import inventory

    a, b = ProductFactory(stock=100), ProductFactory(stock=100)
    lines = [(a.pk, 3), (b.pk, 2)]
    for status in S.values:
        make_order(user=customer, lines=lines, status=status)
    services.refund_order(
        order=make_order(user=customer, lines=lines, status=S.FULFILLED),
        actor=staff,
        restock=True,
    )
    assert services.recover_late_payment(
        order=make_order(user=customer, lines=lines, status=S.CANCELLED)
    )
    inventory.restock(product_id=a.pk, quantity=7, actor=staff)
    inventory.adjust(product_id=b.pk, delta=-4, actor=staff, reason="breakage")

    assert stock_discrepancies() == []
    # created + payment_pending hold 3 each; paid, fulfilled, refunded (kept) and the
    # recovered order are sold; the restocked refund came back.
    assert stock(a) == (100 + 7 - 6 - 12, 6, 107)
    assert stock(b) == (100 - 4 - 4 - 8, 4, 96)
