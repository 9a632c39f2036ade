"""Catalog and inventory endpoints: permissions, validation, mass assignment, query counts."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from audit.models import AuditEvent
from core.tests.helpers import api, client_for
from merchants.tests.factories import make_merchant
from shop.models import Inventory, Product
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW = {"sku": "NEW-1", "name": "New thing", "price": "19.99", "initial_stock": 5}
# What the product object says of a product without variants (test_variants.py: with).
STANDALONE = {
    "structure": "standalone",
    "parent": None,
    "option_names": [],
    "options": {},
    "variants": [],
}


# --- reading the catalog -------------------------------------------------------------------


def test_anonymous_list_shows_active_products_with_stock():
    shown = ProductFactory(name="Alpha", price=Decimal("149.99"), stock=7)
    ProductFactory(name="Hidden", is_active=False)
    response = APIClient().get(api("products"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["next"] is None and body["previous"] is None
    assert body["results"] == [
        {
            "id": shown.pk,
            "sku": shown.sku,
            "name": "Alpha",
            "description": "",
            "price": "149.99",
            "currency": "usd",
            "available": 7,
            "merchant": None,
            "images": [],
            **STANDALONE,
            "requires_shipping": False,  # ProductFactory's default
        }
    ]


def test_a_merchants_product_names_its_merchant_in_the_list_and_detail():
    merchant = make_merchant(display_name="Ann's Pottery")
    product = ProductFactory(merchant=merchant, stock=2)
    ProductFactory.create_batch(2, merchant=make_merchant())
    expected = {"id": merchant.pk, "display_name": "Ann's Pottery"}
    listed = {p["id"]: p["merchant"] for p in APIClient().get(api("products")).json()["results"]}
    assert listed[product.pk] == expected
    assert APIClient().get(api(f"products/{product.pk}")).json()["merchant"] == expected


def test_search_matches_name_or_sku():
    ProductFactory(name="Blue kettle", sku="KET-1")
    ProductFactory(name="Red mug", sku="MUG-1")
    ProductFactory(name="Teapot", sku="POT-KET")
    names = {p["name"] for p in APIClient().get(api("products?search=ket")).json()["results"]}
    assert names == {"Blue kettle", "Teapot"}


def test_pagination_page_size_and_bounds():
    ProductFactory.create_batch(25)
    first = APIClient().get(api("products")).json()
    assert len(first["results"]) == 20
    assert first["count"] == 25
    assert "page=2" in first["next"]
    second = APIClient().get(api("products?page=2")).json()
    assert len(second["results"]) == 5
    assert len(APIClient().get(api("products?page_size=200")).json()["results"]) == 25
    assert len(APIClient().get(api("products?page_size=3")).json()["results"]) == 3
    missing = APIClient().get(api("products?page=9"))
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_product_list_query_count_is_flat(django_assert_max_num_queries):
    # count, page, the page's images, its parents' variants (test_images.py and
    # test_variants.py: with images and variants too)
    ProductFactory.create_batch(3)
    with django_assert_max_num_queries(4):
        assert len(APIClient().get(api("products")).json()["results"]) == 3
    ProductFactory.create_batch(17)
    cache.clear()  # measure the query, not the cached answer
    with django_assert_max_num_queries(4):
        assert len(APIClient().get(api("products")).json()["results"]) == 20


def test_product_detail_and_404s():
    product = ProductFactory(stock=3)
    inactive = ProductFactory(is_active=False)
    response = APIClient().get(api(f"products/{product.pk}"))
    assert response.status_code == 200
    assert response.json()["available"] == 3
    assert APIClient().get(api(f"products/{inactive.pk}")).status_code == 404
    assert client_for(UserFactory()).get(api(f"products/{inactive.pk}")).status_code == 404
    assert client_for(StaffFactory()).get(api(f"products/{inactive.pk}")).status_code == 200
    missing = APIClient().get(api("products/999999"))
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No Product matches the given query.", "code": "not_found"}
    malformed = APIClient().get(api("products/abc"))
    assert malformed.status_code == 404
    assert malformed.json()["code"] == "not_found"


# --- writing the catalog ---------------------------------------------------------------------


def test_staff_create_product_with_initial_stock():
    staff = StaffFactory(permissions=["shop.add_product"])
    response = client_for(staff).post(api("products"), NEW, format="json")
    assert response.status_code == 201
    product = Product.objects.get(sku="NEW-1")
    assert response.json() == {
        "id": product.pk,
        "sku": "NEW-1",
        "name": "New thing",
        "description": "",
        "price": "19.99",
        "currency": "usd",
        "available": 5,
        "merchant": None,
        "images": [],
        **STANDALONE,
        "requires_shipping": True,
    }
    assert product.inventory.received == 5
    assert AuditEvent.objects.filter(action="product.created", actor=staff).exists()


def test_create_product_permissions():
    assert APIClient().post(api("products"), NEW, format="json").status_code == 401
    forbidden = client_for(UserFactory()).post(api("products"), NEW, format="json")
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "permission_denied"
    assert not Product.objects.filter(sku="NEW-1").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**NEW, "price": "-1.00"}, "price"),
        ({**NEW, "price": "1.999"}, "price"),
        ({**NEW, "initial_stock": -3}, "initial_stock"),
        ({"name": "No sku", "price": "1.00"}, "sku"),
        ({**NEW, "available": 1000}, "available"),
        ({**NEW, "currency": "eur"}, "currency"),
        ({**NEW, "id": 12345}, "id"),
    ],
)
def test_create_product_rejects_invalid_and_unknown_fields(payload, field):
    response = client_for(StaffFactory(permissions=["shop.add_product"])).post(
        api("products"), payload, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Product.objects.exists()


def test_create_product_rejects_a_duplicate_sku():
    ProductFactory(sku="NEW-1")
    response = client_for(StaffFactory(permissions=["shop.add_product"])).post(
        api("products"), NEW, format="json"
    )
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]


def test_staff_patch_product():
    product = ProductFactory(price=Decimal("10.00"))
    staff = client_for(StaffFactory(permissions=["shop.change_product"]))
    response = staff.patch(
        api(f"products/{product.pk}"), {"price": "12.50", "name": "Renamed"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["price"] == "12.50"
    assert response.json()["name"] == "Renamed"
    response = staff.patch(api(f"products/{product.pk}"), {"is_active": False}, format="json")
    assert response.status_code == 200
    product.refresh_from_db()
    assert (product.price, product.name, product.is_active) == (Decimal("12.50"), "Renamed", False)


def test_patch_product_permissions_and_read_only_fields():
    product = ProductFactory(price=Decimal("10.00"), stock=4)
    url = api(f"products/{product.pk}")
    assert APIClient().patch(url, {"price": "1.00"}, format="json").status_code == 401
    assert client_for(UserFactory()).patch(url, {"price": "1.00"}, format="json").status_code == 403
    staff = client_for(StaffFactory(permissions=["shop.change_product"]))
    for field, value in [("available", 999), ("sku", "CHANGED"), ("currency", "eur")]:
        response = staff.patch(url, {field: value}, format="json")
        assert response.status_code == 400
        assert field in response.json()["errors"]
    assert staff.patch(url, {"price": "abc"}, format="json").status_code == 400
    assert staff.patch(api("products/999999"), {"price": "1.00"}, format="json").status_code == 404
    product.refresh_from_db()
    assert (product.price, product.sku, product.inventory.available) == (
        Decimal("10.00"),
        product.sku,
        4,
    )
    assert staff.put(url, {"price": "1.00"}, format="json").status_code == 405


# --- inventory ---------------------------------------------------------------------------------


def test_inventory_list_is_for_staff_only():
    product = ProductFactory(stock=6)
    assert APIClient().get(api("inventory")).status_code == 401
    assert client_for(UserFactory()).get(api("inventory")).status_code == 403
    response = client_for(StaffFactory()).get(api("inventory"))
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"product_id": product.pk, "sku": product.sku, "available": 6, "reserved": 0}
    ]


def test_inventory_list_query_count_is_flat(django_assert_max_num_queries):
    staff = client_for(StaffFactory())
    ProductFactory.create_batch(2)
    with django_assert_max_num_queries(4):
        assert staff.get(api("inventory")).json()["count"] == 2
    ProductFactory.create_batch(15)
    with django_assert_max_num_queries(4):
        assert len(staff.get(api("inventory")).json()["results"]) == 17


def test_adjust_stock():
    product = ProductFactory(stock=5)
    staff_user = StaffFactory(permissions=["shop.change_inventory"])
    url = api(f"inventory/{product.pk}/adjust")
    response = client_for(staff_user).post(url, {"delta": -2, "reason": "broken"}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "product_id": product.pk,
        "sku": product.sku,
        "available": 3,
        "reserved": 0,
    }
    event = AuditEvent.objects.get(action="inventory.adjusted")
    assert event.actor == staff_user
    assert event.after["reason"] == "broken"


def test_adjust_below_zero_is_409_insufficient_stock():
    product = ProductFactory(stock=2)
    url = api(f"inventory/{product.pk}/adjust")
    response = client_for(StaffFactory(permissions=["shop.change_inventory"])).post(
        url, {"delta": -3, "reason": "x"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["product_id"] == product.pk
    assert (body["requested"], body["available"]) == (3, 2)
    assert Inventory.objects.get(pk=product.pk).available == 2


def test_adjust_validation_and_permissions():
    product = ProductFactory(stock=2)
    url = api(f"inventory/{product.pk}/adjust")
    staff = client_for(StaffFactory(permissions=["shop.change_inventory"]))
    for payload, field in [
        ({"delta": 0, "reason": "x"}, "delta"),
        ({"delta": 1}, "reason"),
        ({"delta": "many", "reason": "x"}, "delta"),
        ({"delta": 1, "reason": "x", "reserved": 5}, "reserved"),
    ]:
        response = staff.post(url, payload, format="json")
        assert response.status_code == 400
        assert field in response.json()["errors"]
    missing = staff.post(api("inventory/999999/adjust"), {"delta": 1, "reason": "x"}, format="json")
    assert missing.status_code == 404
    assert APIClient().post(url, {"delta": 1, "reason": "x"}, format="json").status_code == 401
    customer = client_for(UserFactory()).post(url, {"delta": 1, "reason": "x"}, format="json")
    assert customer.status_code == 403
    assert Inventory.objects.get(pk=product.pk).available == 2


def test_staff_create_and_patch_requires_shipping():
    staff = StaffFactory(permissions=["shop.add_product", "shop.change_product"])
    client = client_for(staff)
    response = client.post(api("products"), {**NEW, "requires_shipping": False}, format="json")
    assert response.status_code == 201
    assert response.json()["requires_shipping"] is False
    pk = response.json()["id"]
    response = client.patch(api(f"products/{pk}"), {"requires_shipping": True}, format="json")
    assert response.status_code == 200
    assert response.json()["requires_shipping"] is True
    assert Product.objects.get(pk=pk).requires_shipping is True
