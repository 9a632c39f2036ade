"""POST orders/checkout and orders/quote with an address, shipping method and coupon:
the order object's breakdown and the exact error codes of API.md v1.1."""

from decimal import Decimal

import pytest

from core.tests.helpers import api, client_for
from orders.models import Order
from pricing.models import Coupon
from pricing.tests.factories import (
    CouponFactory,
    ShippingMethodFactory,
    TaxRateFactory,
)
from shop.models import Inventory
from shop.tests.factories import AddressFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    customer = UserFactory()
    address = AddressFactory(user=customer, country="US", region="CA")
    ShippingMethodFactory(code="ground", name="Ground", price=Decimal("6.00"), countries=["US"])
    TaxRateFactory(country="US", region="", rate=Decimal("5.00"))
    TaxRateFactory(country="US", region="ca", rate=Decimal("7.25"))
    CouponFactory(code="WELCOME", kind=Coupon.Kind.FREE_SHIPPING, max_uses=1)
    product = ProductFactory(price=Decimal("19.99"), requires_shipping=True, stock=5)
    return client_for(customer), address, product


def body(address, product, **extra):
    return {
        "items": [{"product_id": product.pk, "quantity": 3}],
        "shipping_address_id": address.pk,
        "shipping_method": "ground",
        **extra,
    }


def test_quote_then_checkout_with_the_same_body(shop):
    client, address, product = shop
    request = body(address, product, coupon="welcome")
    quote = client.post(api("orders/quote"), request, format="json")
    assert quote.status_code == 200
    # 59.97, shipping free by the coupon, CA's 7.25%: 4.3478... -> 4.35
    assert quote.json() == {
        "subtotal": "59.97",
        "discount_total": "0.00",
        "shipping_total": "0.00",
        "tax_total": "4.35",
        "total": "64.32",
        "currency": "usd",
        "coupon": "WELCOME",
        "shipping_method": {"code": "ground", "name": "Ground"},
    }
    assert Inventory.objects.get(pk=product.pk).reserved == 0
    assert Coupon.objects.get().uses == 0

    response = client.post(api("orders/checkout"), request, format="json")
    assert response.status_code == 201
    order = response.json()
    assert {k: order[k] for k in quote.json() if k != "shipping_method"} == {
        **{k: v for k, v in quote.json().items() if k != "shipping_method"}
    }
    assert order["shipping_method"] == {"code": "ground", "name": "Ground"}
    assert order["shipping_address"]["country"] == "US"
    assert order["shipping_address"]["region"] == "CA"
    assert Coupon.objects.get().uses == 1


def test_order_without_extras_shows_nulls_and_zeros():
    ebook = ProductFactory(price=Decimal("5.00"))
    client = client_for(UserFactory())
    response = client.post(
        api("orders/checkout"), {"items": [{"product_id": ebook.pk, "quantity": 1}]}, format="json"
    )
    assert response.status_code == 201
    order = response.json()
    assert (order["discount_total"], order["shipping_total"], order["tax_total"]) == (
        "0.00",
        "0.00",
        "0.00",
    )
    assert (order["coupon"], order["shipping_address"], order["shipping_method"]) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize("path", ["orders/checkout", "orders/quote"])
@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"shipping_address_id": None}, 400, "shipping_required"),
        ({"shipping_method": None}, 400, "shipping_required"),
        ({"shipping_method": "teleport"}, 400, "shipping_unavailable"),
        ({"coupon": "NOPE"}, 400, "invalid_coupon"),
        ({"coupon": "USED"}, 409, "coupon_exhausted"),
    ],
)
def test_errors(shop, path, change, status, code):
    client, address, product = shop
    CouponFactory(code="USED", max_uses=0)
    response = client.post(api(path), {**body(address, product), **change}, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Order.objects.count() == 0
    assert Inventory.objects.get(pk=product.pk).reserved == 0


@pytest.mark.parametrize("path", ["orders/checkout", "orders/quote"])
def test_more_than_the_stock_is_409_with_the_product_from_both(shop, path):
    client, address, product = shop
    Inventory.objects.filter(pk=product.pk).update(available=2, received=2)

    response = client.post(api(path), body(address, product), format="json")

    assert response.status_code == 409
    assert {k: response.json()[k] for k in ("code", "product_id", "requested", "available")} == {
        "code": "insufficient_stock",
        "product_id": product.pk,
        "requested": 3,
        "available": 2,
    }
    assert Order.objects.count() == 0
    assert Inventory.objects.get(pk=product.pk).reserved == 0


def test_someone_elses_address_is_refused(shop):
    client, _, product = shop
    theirs = AddressFactory(country="US")
    response = client.post(api("orders/checkout"), body(theirs, product), format="json")
    assert (response.status_code, response.json()["code"]) == (400, "shipping_required")


def test_unknown_fields_are_400(shop):
    client, address, product = shop
    response = client.post(
        api("orders/quote"), body(address, product, discount_total="9.99"), format="json"
    )
    assert response.status_code == 400
