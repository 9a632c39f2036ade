"""The Order state machine, exercised on the model (the services are tested elsewhere)."""

import itertools
from decimal import Decimal

import pytest
from django_fsm import TransitionNotAllowed, can_proceed

from orders.models import Order, OrderItem
from orders.tests.factories import make_order
from shop.tests.factories import ProductFactory

S = Order.Status

# The state machine of DESIGN.md: transition name -> (allowed sources, target).
EXPECTED = {
    "start_payment": ({S.CREATED}, S.PAYMENT_PENDING),
    "mark_paid": ({S.PAYMENT_PENDING}, S.PAID),
    "fulfil": ({S.PAID}, S.FULFILLED),
    "cancel": ({S.CREATED, S.PAYMENT_PENDING}, S.CANCELLED),
    "expire": ({S.CREATED, S.PAYMENT_PENDING}, S.EXPIRED),
    "fail": ({S.PAYMENT_PENDING}, S.FAILED),
    "refund": ({S.PAID, S.FULFILLED}, S.REFUNDED),
    "recover_late_payment": ({S.EXPIRED, S.CANCELLED, S.FAILED}, S.PAID),
}


def _defined_transitions():
    """{name: (sources, target)} as declared with @transition in orders/models.py."""
    field = Order._meta.get_field("status")
    defined = {}
    for t in field.get_all_transitions(Order):
        sources, target = defined.setdefault(t.name, (set(), t.target))
        assert target == t.target, f"{t.name} has more than one target"
        sources.add(t.source)
    return defined


DEFINED = _defined_transitions()
ALLOWED = sorted((source, name) for name, (sources, _) in DEFINED.items() for source in sources)
FORBIDDEN = sorted(
    (state, name)
    for state, name in itertools.product(S.values, DEFINED)
    if (state, name) not in set(ALLOWED)
)


def test_declared_transitions_match_the_design():
    assert DEFINED == EXPECTED
    # 13 allowed pairs out of 8 states x 8 transitions.
    assert len(ALLOWED) == 13
    assert len(FORBIDDEN) == 64 - 13


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "name"), ALLOWED)
def test_allowed_transition_moves_to_its_target_and_persists(source, name):
    order = make_order(status=source)
    target = DEFINED[name][1]
    assert can_proceed(getattr(order, name))

    getattr(order, name)()

    assert order.status == target
    order.save()
    assert Order.objects.get(pk=order.pk).status == target


@pytest.mark.django_db
@pytest.mark.parametrize(("state", "name"), FORBIDDEN)
def test_forbidden_transition_raises_and_keeps_the_state(state, name):
    order = make_order(status=state)
    assert not can_proceed(getattr(order, name))

    with pytest.raises(TransitionNotAllowed):
        getattr(order, name)()

    assert order.status == state
    assert Order.objects.get(pk=order.pk).status == state


@pytest.mark.django_db
@pytest.mark.parametrize("new_status", [S.PAID, S.CANCELLED, S.CREATED])
def test_status_cannot_be_assigned_directly(new_status):
    order = make_order(status=S.PAYMENT_PENDING)

    with pytest.raises(AttributeError, match="Direct status modification is not allowed"):
        order.status = new_status

    assert order.status == S.PAYMENT_PENDING
    assert Order.objects.get(pk=order.pk).status == S.PAYMENT_PENDING


@pytest.mark.django_db
def test_refresh_from_db_reloads_a_protected_status():
    order = make_order(status=S.CREATED)
    other_copy = Order.objects.get(pk=order.pk)
    other_copy.start_payment()
    other_copy.save()

    order.refresh_from_db()

    assert order.status == S.PAYMENT_PENDING
    # The field is still protected after the refresh.
    with pytest.raises(AttributeError):
        order.status = S.PAID


@pytest.mark.django_db
def test_deferred_status_loads_through_refresh_from_db():
    order = make_order(status=S.PAYMENT_PENDING)
    deferred = Order.objects.only("id").get(pk=order.pk)
    assert deferred.status == S.PAYMENT_PENDING


@pytest.mark.django_db
def test_new_order_starts_created_with_short_id_and_str():
    product = ProductFactory(price=Decimal("3.50"), stock=5)
    order = make_order(lines=[(product.pk, 2)])

    assert order.status == S.CREATED
    assert order.short_id == str(order.pk)[:8]
    assert str(order) == f"Order {order.short_id}"
    item = OrderItem.objects.get(order=order)
    assert str(item) == f"2 x {product.name}"
