"""Checkout through the API under real concurrency (threads, PostgreSQL, no test transaction)."""

import pytest
from rest_framework.test import APIClient

from core.tests.helpers import api, client_for
from orders.models import Order
from orders.selectors import stock_discrepancies
from shop.models import Inventory
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import ProductFactory, UserFactory


@pytest.fixture(autouse=True)
def _no_stripe_no_throttle(settings):
    # Nothing listens on port 9: creating PaymentIntents after commit fails fast and the
    # orders stay `created`; the throttle cache must not limit 30 users at once.
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "1000/min", "checkout": "1000/min"},
    }


@pytest.mark.django_db(transaction=True)
def test_thirty_customers_ten_in_stock_exactly_ten_orders():
    product = ProductFactory(stock=10)
    clients = [client_for(UserFactory()) for _ in range(30)]
    body = {"items": [{"product_id": product.pk, "quantity": 1}]}

    def buyer(client: APIClient):
        return lambda: client.post(api("orders/checkout"), body, format="json")

    outcomes = run_concurrently(*(buyer(c) for c in clients))
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    responses = [response for _, response in outcomes]
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 10 + [409] * 20
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "insufficient_stock"
            assert response.json()["product_id"] == product.pk
    assert Order.objects.count() == 10
    row = Inventory.objects.get(pk=product.pk)
    assert (row.available, row.reserved) == (0, 10)
    assert stock_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_two_identical_idempotent_requests_racing_make_one_order():
    product = ProductFactory(stock=10)
    user = UserFactory()
    body = {"items": [{"product_id": product.pk, "quantity": 2}]}

    def request():
        return client_for(user).post(
            api("orders/checkout"), body, format="json", HTTP_IDEMPOTENCY_KEY="race-key"
        )

    outcomes = run_concurrently(request, request, request, request)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    responses = [response for _, response in outcomes]
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Order.objects.filter(user=user).count() == 1
    row = Inventory.objects.get(pk=product.pk)
    assert (row.available, row.reserved) == (8, 2)
