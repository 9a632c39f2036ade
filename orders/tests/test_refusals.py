"""A refused order change says in plain words what was refused and why
(orders.services.ensure_can): "Order 280d1872 cannot be cancelled: it is paid."."""

import pytest

from orders.exceptions import InvalidTransition
from orders.models import Order
from orders.services import REFUSED, STATE, ensure_can
from orders.tests.factories import make_order

S = Order.Status
pytestmark = pytest.mark.django_db


def test_every_transition_and_every_status_has_its_words():
    transitions = {t.name for t in Order._meta.get_field("status").get_all_transitions(Order)}

    assert set(REFUSED) == transitions
    assert set(STATE) == set(S.values)


@pytest.mark.parametrize(
    ("status", "transition", "message"),
    [
        (S.PAID, "cancel", "cannot be cancelled: it is paid."),
        (S.PAYMENT_PENDING, "fulfil", "cannot be fulfilled: its payment is pending."),
        (S.CREATED, "refund", "cannot be refunded: it is awaiting payment."),
        (S.EXPIRED, "mark_paid", "cannot be marked paid: it has expired."),
        (S.FAILED, "cancel", "cannot be cancelled: its payment failed."),
    ],
)
def test_the_refusal_names_the_order_the_change_and_the_reason(status, transition, message):
    order = make_order(status=status)

    with pytest.raises(InvalidTransition) as refused:
        ensure_can(order, getattr(order, transition))

    assert refused.value.detail == f"Order {order.short_id} {message}"
    assert refused.value.code == "invalid_transition"
