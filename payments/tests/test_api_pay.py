"""POST orders/{id}/pay: creates the PaymentIntent when checkout could not, idempotently;
only the owner may, and only while the order awaits payment."""

import pytest

from core.tests.helpers import api, client_for
from orders.models import Order
from orders.tests.factories import make_due, make_order
from payments.models import Payment
from shop.tests.clients import ANON, OTHER, OWNER, STAFF, client_as
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = Order.Status


def test_pay_creates_the_payment_intent_once(stripe_sim):
    order = make_order()
    client = client_for(order.user)
    first = client.post(api(f"orders/{order.pk}/pay"))
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "payment_pending"
    assert body["payment"]["payment_intent_id"].startswith("pi_")
    assert body["payment"]["client_secret"].startswith(body["payment"]["payment_intent_id"])
    again = client.post(api(f"orders/{order.pk}/pay"))
    assert again.status_code == 200
    assert again.json()["payment"] == body["payment"]
    assert Payment.objects.filter(order=order).count() == 1


def test_pay_while_stripe_is_unreachable_is_503(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    order = make_order()
    response = client_for(order.user).post(api(f"orders/{order.pk}/pay"))
    assert response.status_code == 503
    assert response.json()["code"] == "payment_unavailable"
    assert "Retry-After" in response
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED
    assert not Payment.objects.exists()


@pytest.mark.parametrize("status", [Order.Status.CANCELLED, Order.Status.EXPIRED])
def test_pay_for_a_closed_order_is_409(status):
    order = make_order(status=status)
    response = client_for(order.user).post(api(f"orders/{order.pk}/pay"))
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert not Payment.objects.exists()


def test_pay_after_the_reservation_ran_out_is_409():
    order = make_order()
    make_due(order)
    response = client_for(order.user).post(api(f"orders/{order.pk}/pay"))
    assert response.status_code == 409
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("who", "expected"), [(ANON, 401), (OWNER, 409), (OTHER, 404), (STAFF, 403)]
)
def test_matrix_pay(who, expected):
    # A paid order without a PaymentIntent: the owner gets 409, nobody reaches Stripe.
    owner = UserFactory()
    order = make_order(user=owner, status=S.PAID)
    response = client_as(who, owner).post(api(f"orders/{order.pk}/pay"))
    assert response.status_code == expected
    assert not Payment.objects.exists()
