"""POST orders/{id}/refund: who may refund (the permission matrix), partial then full
refunds, validation, and refusing an unpaid order."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from core.tests.helpers import api, client_for
from orders.models import Order
from orders.tests.factories import make_order
from payments.models import Refund
from payments.tests.helpers import with_payment
from shop.tests.clients import ANON, OTHER, OWNER, STAFF, VIEWER, client_as
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Order.Status


def refunder():
    """Staff who may refund (payments.add_refund) and nothing else."""
    return StaffFactory(permissions=["payments.add_refund"])


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("who", "expected"), [(ANON, 401), (OWNER, 403), (OTHER, 403), (STAFF, 200), (VIEWER, 403)]
)
def test_matrix_refund(who, expected):
    owner = UserFactory()
    order = make_order(user=owner, status=S.PAID)
    with_payment(order)
    response = client_as(who, owner).post(api(f"orders/{order.pk}/refund"), {}, format="json")
    assert response.status_code == expected
    if expected == 403:
        assert response.json()["code"] == "permission_denied"
    order.refresh_from_db()
    assert order.status == (S.REFUNDED if expected == 200 else S.PAID)
    assert Refund.objects.count() == (1 if expected == 200 else 0)


def test_partial_then_full_refund():
    order = make_order(lines=[(ProductFactory(price=Decimal("30.00")).pk, 1)], status=S.PAID)
    payment = with_payment(order)
    staff = client_for(refunder())
    part = staff.post(api(f"orders/{order.pk}/refund"), {"amount": "10.00"}, format="json")
    assert part.status_code == 200
    assert part.json()["status"] == "paid"
    too_much = staff.post(api(f"orders/{order.pk}/refund"), {"amount": "25.00"}, format="json")
    assert too_much.status_code == 400
    assert too_much.json()["code"] == "invalid_refund"
    rest = staff.post(api(f"orders/{order.pk}/refund"), {"amount": "20.00"}, format="json")
    assert rest.status_code == 200
    assert rest.json()["status"] == "refunded"
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("30.00")
    again = staff.post(api(f"orders/{order.pk}/refund"), {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"restock": "maybe"}, "restock"),
        ({"status": "refunded"}, "status"),
    ],
)
def test_refund_validation(payload, field):
    order = make_order(status=S.PAID)
    with_payment(order)
    response = client_for(refunder()).post(api(f"orders/{order.pk}/refund"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Refund.objects.exists()


def test_refund_of_an_unpaid_order_is_409():
    order = make_order()
    response = client_for(refunder()).post(api(f"orders/{order.pk}/refund"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
