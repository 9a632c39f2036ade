"""A Stripe that accepts connections and never answers holds a web thread for a bounded
time (issue 14, item 7): checkout answers `created` with `payment: null`, pay answers
503 `payment_unavailable`. Timeouts are shortened here so the test is quick; the bound
is the one payments.gateway computes for the configured values."""

import time

import pytest

from core.tests.helpers import api, client_for, committed
from orders.models import Order
from payments import gateway
from payments.models import Payment
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

# Test-machine slack on top of the bound: Django, the database, thread start-up.
SLACK_SECONDS = 1.5


@pytest.fixture
def hung_stripe(settings, silent_server):
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{silent_server.port}"
    settings.STRIPE_CONNECT_TIMEOUT = 0.5
    settings.STRIPE_READ_TIMEOUT = 0.5
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    return silent_server


def bound() -> float:
    return gateway.worst_case_seconds(connect=0.5, read=0.5, retries=1) + SLACK_SECONDS


def test_checkout_answers_created_without_payment_within_the_bound(hung_stripe):
    product = ProductFactory(stock=5)
    client = client_for(UserFactory())

    lines = {"items": [{"product_id": product.pk, "quantity": 1}]}

    started = time.monotonic()
    with committed():  # the PaymentIntent is asked for after the checkout commits
        response = client.post(api("orders/checkout"), lines, format="json")
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["payment"]) == ("created", None)
    assert elapsed < bound()
    assert hung_stripe.connections == 2  # the first try and the one retry
    assert Order.objects.get().status == Order.Status.CREATED
    assert Payment.objects.count() == 0


def test_pay_answers_503_payment_unavailable_within_the_bound(hung_stripe):
    customer = UserFactory()
    product = ProductFactory(stock=5)
    client = client_for(customer)
    lines = {"items": [{"product_id": product.pk, "quantity": 1}]}
    with committed():
        order_id = client.post(api("orders/checkout"), lines, format="json").json()["id"]

    started = time.monotonic()
    response = client.post(api(f"orders/{order_id}/pay"))
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "detail": "The payment provider cannot be reached right now. Please try again.",
        "code": "payment_unavailable",
    }
    assert elapsed < bound()
    assert hung_stripe.connections == 4  # two calls, each tried twice
    assert Order.objects.get().status == Order.Status.CREATED
