"""Errors outside DRF's views (config/errors.py): under /api/ every one is JSON
`{detail, code}`; a database or Redis that cannot be reached answers 503 with
`Retry-After`, JSON under /api/ and a friendly page elsewhere (issue 13 "Hostile input",
issue 14 item 6). The database "goes away" the way config/tests/test_health.py makes it."""

import pytest
import redis
from django.db import InterfaceError, OperationalError, connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

import shop.selectors
from core.tests.helpers import api, client_for

pytestmark = pytest.mark.django_db


def _raising(exc):
    def fail(*args, **kwargs):
        raise exc

    return fail


@pytest.mark.parametrize(
    "path",
    ["/api/v1/orders/%0A", "/api/v1/products%0A", "/api/%0A/x", "/api/v1/orders/%00/pay"],
)
def test_a_newline_or_nul_in_an_api_path_is_a_json_404(path):
    for method in ("get", "post", "delete"):
        response = getattr(APIClient(), method)(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_unexpected_error_under_api_is_a_json_500(monkeypatch):
    monkeypatch.setattr(shop.selectors, "products_for_sale", _raising(RuntimeError("a bug")))
    client = Client(raise_request_exception=False)

    response = client.get(api("products"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Internal server error.", "code": "server_error"}


def test_an_unexpected_error_on_a_page_is_still_the_500_page(monkeypatch):
    monkeypatch.setattr(shop.selectors, "products_for_sale", _raising(RuntimeError("a bug")))
    client = Client(raise_request_exception=False)

    response = client.get(reverse("shop:catalog"))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "Something went wrong" in response.content.decode()


# --- 503 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("connection to server failed: Connection refused"),
        InterfaceError("connection already closed"),
    ],
)
@pytest.mark.parametrize("path", ["products", "auth/me", "orders"])
def test_the_api_answers_503_json_while_the_database_is_raising(monkeypatch, customer, error, path):
    client = client_for(customer)
    client.raise_request_exception = False
    monkeypatch.setattr(connection, "cursor", _raising(error))

    response = client.get(api(path))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "The service is unavailable for a moment. Please try again shortly.",
        "code": "service_unavailable",
    }


def test_the_api_answers_503_json_when_redis_fails_outside_the_cache(monkeypatch):
    monkeypatch.setattr(
        shop.selectors, "products_for_sale", _raising(redis.exceptions.ConnectionError())
    )

    response = Client(raise_request_exception=False).get(api("products"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"


@pytest.mark.parametrize("path", ["/", "/orders/", "/cart/"])
def test_pages_show_a_friendly_503_while_the_database_is_raising(
    monkeypatch, customer_client, path
):
    customer_client.raise_request_exception = False
    monkeypatch.setattr(connection, "cursor", _raising(OperationalError("gone")))

    response = customer_client.get(path)

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "We will be back in a moment" in html
    assert "css/shop.css" in html
