"""POST orders/checkout: contract answers, idempotency, invalid lines, mass assignment,
authentication and the per-user throttle."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.tests.helpers import api, client_for
from orders import services
from orders.models import Order
from shop.models import CartItem, Inventory
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"  # shop.tests.factories.UserFactory's
S = Order.Status


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def _stock(product):
    row = Inventory.objects.get(pk=product.pk)
    return row.available, row.reserved


def _checkout(client, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(api("orders/checkout"), body, format="json", **headers)


def test_checkout_lines_creates_an_order_and_reserves_stock():
    user = UserFactory()
    mug = ProductFactory(price=Decimal("4.50"), stock=10)
    response = _checkout(client_for(user), {"items": [{"product_id": mug.pk, "quantity": 3}]})
    assert response.status_code == 201
    body = response.json()
    order = Order.objects.get(pk=body["id"])
    assert order.user == user
    assert body["status"] == "created"
    assert body["payment"] is None  # on_commit (PaymentIntent) does not run in this test
    assert (body["subtotal"], body["total"], body["currency"]) == ("13.50", "13.50", "usd")
    assert body["items"] == [
        {
            "product_id": mug.pk,
            "sku": mug.sku,
            "name": mug.name,
            "unit_price": "4.50",
            "quantity": 3,
            "line_total": "13.50",
        }
    ]
    assert {"expires_at", "created_at", "updated_at"} <= set(body)
    assert _stock(mug) == (7, 3)


def test_checkout_empty_body_orders_the_cart_and_keeps_it_until_paid():
    user = UserFactory()
    client = client_for(user)
    product = ProductFactory(stock=5)
    client.put(api(f"cart/items/{product.pk}"), {"quantity": 2}, format="json")
    response = _checkout(client, {}, key="cart-key")
    assert response.status_code == 201
    assert response.json()["items"][0]["quantity"] == 2
    assert list(CartItem.objects.filter(cart__user=user).values_list("quantity", flat=True)) == [2]
    again = _checkout(client, {}, key="cart-key")
    assert again.status_code == 200
    assert again.json()["id"] == response.json()["id"]
    assert _stock(product) == (3, 2)
    services.mark_paid(order=services.start_payment(order=Order.objects.get()))
    assert not CartItem.objects.filter(cart__user=user).exists()
    # A retry of the paid checkout, its cart emptied, still gets the order back.
    replayed = _checkout(client, {}, key="cart-key")
    assert (replayed.status_code, replayed.json()["id"]) == (200, response.json()["id"])
    empty = _checkout(client, {})
    assert empty.status_code == 400
    assert empty.json()["code"] == "invalid_cart"


def test_checkout_idempotency_key_replays_and_conflicts():
    user = UserFactory()
    client = client_for(user)
    product = ProductFactory(stock=10)
    body = {"items": [{"product_id": product.pk, "quantity": 2}]}
    first = _checkout(client, body, key="key-1")
    second = _checkout(client, body, key="key-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    conflict = _checkout(client, {"items": [{"product_id": product.pk, "quantity": 3}]}, "key-1")
    assert conflict.status_code == 422
    assert conflict.json()["code"] == "idempotency_conflict"
    assert Order.objects.count() == 1
    assert _stock(product) == (8, 2)
    # Keys are per user: another customer's identical key makes a new order.
    other = _checkout(client_for(UserFactory()), body, key="key-1")
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    too_long = _checkout(client, body, key="k" * 256)
    assert too_long.status_code == 400


def test_checkout_out_of_stock_is_409_and_reserves_nothing():
    client = client_for(UserFactory())
    plenty = ProductFactory(stock=10)
    scarce = ProductFactory(stock=1)
    body = {
        "items": [
            {"product_id": plenty.pk, "quantity": 2},
            {"product_id": scarce.pk, "quantity": 2},
        ]
    }
    response = _checkout(client, body)
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["product_id"] == scarce.pk
    assert (response.json()["requested"], response.json()["available"]) == (2, 1)
    assert not Order.objects.exists()
    assert _stock(plenty) == (10, 0)
    assert _stock(scarce) == (1, 0)


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"product_id": 1, "quantity": 0}],
        [{"product_id": 1, "quantity": 1001}],
        [{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}],
        [{"product_id": 1}],
        [{"product_id": 1, "quantity": 1, "price": "0.01"}],
        [{"product_id": 1, "quantity": 1, "unit_price": "0.01"}],
        "not-a-list",
    ],
)
def test_checkout_rejects_invalid_lines(items):
    product = ProductFactory(stock=10)
    for line in items if isinstance(items, list) else []:
        line["product_id"] = product.pk
    response = _checkout(client_for(UserFactory()), {"items": items})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "items" in response.json()["errors"]
    assert not Order.objects.exists()
    assert _stock(product) == (10, 0)


def test_checkout_unknown_or_inactive_products_are_400():
    client = client_for(UserFactory())
    inactive = ProductFactory(is_active=False)
    for product_id in (999999, inactive.pk):
        response = _checkout(client, {"items": [{"product_id": product_id, "quantity": 1}]})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_cart"
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"status": "paid"},
        {"total": "0.01"},
        {"subtotal": "0.01"},
        {"user": 1},
        {"currency": "eur"},
        {"expires_at": "2100-01-01T00:00:00Z"},
    ],
)
def test_checkout_mass_assignment_is_rejected(extra):
    user = UserFactory()
    product = ProductFactory(stock=10)
    body = {"items": [{"product_id": product.pk, "quantity": 1}], **extra}
    response = _checkout(client_for(user), body)
    assert response.status_code == 400
    assert set(extra) <= set(response.json()["errors"])
    assert not Order.objects.exists()


def test_checkout_needs_authentication_and_is_throttled_per_user(settings):
    product = ProductFactory(stock=100)
    body = {"items": [{"product_id": product.pk, "quantity": 1}]}
    assert _checkout(APIClient(), body).status_code == 401
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "10/min", "checkout": "2/min"},
    }
    user = UserFactory()
    assert [_checkout(client_for(user), body).status_code for _ in range(2)] == [201, 201]
    blocked = _checkout(client_for(user), body)
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert Order.objects.filter(user=user).count() == 2
    assert _checkout(client_for(UserFactory()), body).status_code == 201


# --- authentication from the token's claims (core.api.TokenClaimsAuthentication) -------------


def test_checkout_reads_no_user_to_authenticate():
    product = ProductFactory(stock=5)
    user = UserFactory()
    client = client_for(user)
    users = type(user)._meta.db_table

    with CaptureQueriesContext(connection) as ctx:
        response = _checkout(client, {"items": [{"product_id": product.pk, "quantity": 1}]})

    assert response.status_code == 201
    assert not [q["sql"] for q in ctx.captured_queries if f'FROM "{users}"' in q["sql"]]
    assert Order.objects.get().user == user


def test_a_deactivated_customer_keeps_checking_out_only_until_the_access_token_expires():
    product = ProductFactory(stock=5)
    user = UserFactory()
    pair = (
        APIClient()
        .post(api("auth/token"), {"email": user.email, "password": PASSWORD}, format="json")
        .json()
    )
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")

    checkout = _checkout(client, {"items": [{"product_id": product.pk, "quantity": 1}]})
    refresh = APIClient().post(
        api("auth/token/refresh"), {"refresh": pair["refresh"]}, format="json"
    )
    orders = client.get(api("orders"))

    # The trade-off of no user query: the token stands for its lifetime (10 minutes)...
    assert checkout.status_code == 201
    # ...but no new one is issued, and every other endpoint reads the user as before.
    assert refresh.status_code == 401
    assert refresh.json()["code"] == "no_active_account"
    assert orders.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_deleted_customers_token_checks_out_nothing():
    product = ProductFactory(stock=5)
    user = UserFactory()
    client = client_for(user)
    user.delete()

    response = _checkout(client, {"items": [{"product_id": product.pk, "quantity": 1}]})

    assert response.status_code == 401
    assert response.json()["code"] == "user_not_found"
    assert not Order.objects.exists()
    assert _stock(product) == (5, 0)
