"""Hostile input, over HTTP (issue 13, "Hostile input"): deep JSON and control characters
(core.parsers, config.middleware), out-of-range numbers, and private caching of signed-in
answers. Errors under /api/ as JSON: test_errors.py."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from core.tests.helpers import api, client_for
from merchants.tests.factories import make_merchant
from orders.tests.factories import make_order
from shop.models import Product
from shop.tests.factories import AddressFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

DEEP = '{"email": ' + "[" * 5000 + "]" * 5000 + "}"


def _operations_with_a_body(*, order, product, address):
    schema = APIClient().get("/api/schema/?format=json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                object_id = order.pk if "/orders/" in path else product.pk
                object_id = address.pk if "/addresses/" in path else object_id
                yield method, path.format(id=object_id, product_id=product.pk)


def test_json_nested_5000_levels_is_a_400_on_every_endpoint_that_takes_a_body():
    """As a superuser (and approved merchant, owning the product) with real ids, so every
    endpoint gets as far as reading its body."""
    superuser = StaffFactory(is_superuser=True)
    product = ProductFactory(stock=5, merchant=make_merchant(user=superuser))
    order = make_order(lines=[(product.pk, 1)])
    client = client_for(superuser)
    address = AddressFactory(user=superuser)
    operations = sorted(_operations_with_a_body(order=order, product=product, address=address))
    # + POST wallet/withdrawals, wallet/deposits, orders/{id}/pay; + addresses (POST, PATCH),
    # shipping-methods, tax-rates, coupons, orders/quote; + POST merchants,
    # merchant/products, merchant/products/{id}/adjust, PATCH merchant/products/{id};
    # + POST orders/{id}/fulfil (carrier, tracking number)
    assert len(operations) == 24

    for method, path in operations:
        response = getattr(client, method)(path, data=DEEP, content_type="application/json")
        assert (method, path, response.status_code) == (method, path, 400)
        assert response.json() == {
            "detail": "JSON nested deeper than 32 levels.",
            "code": "too_deep",
        }


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "a\\u0000@example.com", "password": "long-enough-passphrase"}',
        '{"email": "a@example.com", "password": "long-enough-passphrase\\u0007"}',
        '{"email": "a@example.com", "password": "pass\\u001bphrase-long", "x\\u0000": 1}',
        '{"email": "a@example.com", "password": "\\ud800-lone-surrogate"}',
    ],
)
def test_control_characters_in_a_body_are_a_400_and_nothing_is_stored(body):
    response = APIClient().post(api("auth/register"), data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Text may not contain control characters.",
        "code": "invalid_characters",
    }
    assert AuditEvent.objects.count() == 0


def test_tabs_and_newlines_are_ordinary_text():
    staff = StaffFactory(is_superuser=True)

    response = client_for(staff).post(
        api("products"),
        {"sku": "T-1", "name": "Tea", "description": "Line one\r\nLine\ttwo", "price": "3.00"},
        format="json",
    )

    assert response.status_code == 201
    assert Product.objects.get(sku="T-1").description == "Line one\r\nLine\ttwo"


@pytest.mark.parametrize(
    "query",
    ["search=%00", "search=a%01b", "search=%1B%5B31m", "search=%C2%85", "%00=1", "page=%00"],
)
def test_control_characters_in_an_api_query_string_are_a_json_400(query):
    ProductFactory(stock=1)

    response = APIClient().get(f"/api/v1/products?{query}")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Text may not contain control characters.",
        "code": "invalid_characters",
    }


def test_ordinary_search_still_works():
    ProductFactory(name="Brass pen", stock=1)
    response = APIClient().get(api("products?search=brass%20pen%09"))
    assert [p["name"] for p in response.json()["results"]] == ["Brass pen"]


@pytest.mark.parametrize("path", ["/?q=%00", "/?q=tea%07", "/admin/shop/product/?q=%00"])
def test_control_characters_in_a_page_query_are_a_400_page(staff_client, path):
    response = staff_client.get(path)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "We could not read this request" in response.content.decode()


@pytest.mark.parametrize("encode", ["urlencoded", "multipart"])
def test_control_characters_in_a_form_are_a_400(client, customer, encode):
    form = {"username": customer.email, "password": "pass\x00word"}
    if encode == "urlencoded":
        response = client.post(
            reverse("login"), urlencode(form), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post(reverse("login"), form)  # the test client's default

    assert response.status_code == 400
    assert "We could not read this request" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_form_that_cannot_be_parsed_is_a_400(client):
    response = client.post(reverse("login"), b"x", content_type="multipart/form-data")

    assert response.status_code == 400


@pytest.mark.parametrize("field", ["initial_stock", "delta"])
def test_stock_numbers_beyond_any_delivery_are_a_400_not_a_database_error(field):
    product = ProductFactory(stock=1)
    client = client_for(StaffFactory(is_superuser=True))
    huge = 38_710_580_453_108  # found by schemathesis: past PostgreSQL's integer

    if field == "initial_stock":
        body = {"sku": "H-1", "name": "Huge", "price": "1.00", "initial_stock": huge}
        response = client.post(api("products"), body, format="json")
    else:
        body = {"delta": huge, "reason": "typo"}
        response = client.post(api(f"inventory/{product.pk}/adjust"), body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


# --- private caching -----------------------------------------------------------------------


def _directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.mark.parametrize(
    "path", ["/", "/cart/", "/orders/", "/accounts/password/change/", "/api/v1/products"]
)
def test_pages_and_answers_for_a_signed_in_user_are_private_and_not_stored(customer_client, path):
    ProductFactory(stock=1)

    response = customer_client.get(path)

    assert response.status_code == 200
    assert {"private", "no-store"} <= _directives(response)
    assert "public" not in _directives(response)


@pytest.mark.parametrize("path", ["auth/me", "cart", "orders", "products"])
def test_api_answers_for_a_bearer_token_are_private_and_not_stored(customer, path):
    response = client_for(customer).get(api(path))

    assert response.status_code == 200
    assert {"private", "no-store"} <= _directives(response)


def test_anonymous_answers_keep_their_own_caching(client):
    ProductFactory(stock=1)

    catalog = APIClient().get(api("products"))
    page = client.get("/")

    assert "max-age=5" in _directives(catalog)  # CATALOG_CACHE_SECONDS
    assert "no-store" not in _directives(catalog)
    assert "no-store" not in _directives(page)
