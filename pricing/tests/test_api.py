"""Shipping methods, tax rates and coupons over the API (API.md v1.1)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.tests.helpers import api, client_for
from pricing.models import Coupon, ShippingMethod, TaxRate
from pricing.tests.factories import ShippingMethodFactory
from shop.tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anyone_lists_the_methods_for_a_country_unpaginated():
    ShippingMethodFactory(code="dhl", name="DHL", price=Decimal("4.90"), countries=["DE"])
    ShippingMethodFactory(
        code="express",
        name="Express",
        price=Decimal("12.00"),
        free_over=Decimal("150.00"),
        countries=["DE", "AT"],
    )
    ShippingMethodFactory(code="off", countries=["DE"], is_active=False)
    response = APIClient().get(api("shipping-methods"), {"country": "de"})
    assert response.status_code == 200
    assert response.json() == [
        {"code": "dhl", "name": "DHL", "price": "4.90", "free_over": None},
        {"code": "express", "name": "Express", "price": "12.00", "free_over": "150.00"},
    ]
    assert APIClient().get(api("shipping-methods"), {"country": "FR"}).json() == []


@pytest.mark.parametrize("query", [{}, {"country": "ZZ"}])
def test_methods_need_a_known_country(query):
    response = APIClient().get(api("shipping-methods"), query)
    assert response.status_code == 400


def test_staff_create_a_shipping_method():
    staff = StaffFactory(permissions=["pricing.add_shippingmethod"])
    body = {"code": "ups", "name": "UPS", "price": "7.00", "countries": ["de", "FR"]}
    response = client_for(staff).post(api("shipping-methods"), body, format="json")
    assert response.status_code == 201
    assert response.json() == {
        "code": "ups",
        "name": "UPS",
        "price": "7.00",
        "free_over": None,
        "countries": ["DE", "FR"],
        "is_active": True,
    }
    assert ShippingMethod.objects.get().ships_to("fr")


def test_staff_create_tax_rates():
    staff = StaffFactory(permissions=["pricing.add_taxrate"])
    client = client_for(staff)
    response = client.post(api("tax-rates"), {"country": "DE", "rate": "19.00"}, format="json")
    assert response.status_code == 201
    assert response.json()["rate"] == "19.00"
    body = {"country": "US", "region": "CA", "rate": "7.25"}
    assert client.post(api("tax-rates"), body, format="json").status_code == 201
    again = client.post(api("tax-rates"), {**body, "region": "ca"}, format="json")
    assert again.status_code == 400
    assert "A tax rate for this country and region already exists." in str(again.json())
    assert (
        client.post(
            api("tax-rates"), {"country": "DE", "rate": "100.01"}, format="json"
        ).status_code
        == 400
    )
    assert TaxRate.objects.count() == 2


def test_staff_create_coupons_unique_ignoring_case():
    staff = StaffFactory(permissions=["pricing.add_coupon"])
    client = client_for(staff)
    body = {"code": "Summer", "kind": "percent", "value": "15", "max_uses": 100}
    response = client.post(api("coupons"), body, format="json")
    assert response.status_code == 201
    assert response.json()["uses"] == 0
    again = client.post(api("coupons"), {**body, "code": "SUMMER"}, format="json")
    assert again.status_code == 400
    assert Coupon.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"code": "X", "kind": "percent", "value": "100.01"},
        {"code": "X", "kind": "bogus", "value": "1"},
        {"code": "X", "kind": "fixed", "value": "-1"},
        {"code": "X", "kind": "fixed", "value": "1", "uses": 5},
        {
            "code": "X",
            "kind": "fixed",
            "value": "1",
            "starts_at": "2026-02-01T00:00:00Z",
            "ends_at": "2026-01-01T00:00:00Z",
        },
    ],
)
def test_bad_coupons_are_400(body):
    staff = StaffFactory(permissions=["pricing.add_coupon"])
    assert client_for(staff).post(api("coupons"), body, format="json").status_code == 400
    assert not Coupon.objects.exists()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("shipping-methods", {"code": "a", "name": "A", "price": "1.00", "countries": ["DE"]}),
        ("tax-rates", {"country": "DE", "rate": "19.00"}),
        ("coupons", {"code": "A", "kind": "fixed", "value": "1.00"}),
    ],
)
def test_writes_need_the_permission(path, body):
    customer = client_for(UserFactory()).post(api(path), body, format="json")
    staff = client_for(StaffFactory()).post(api(path), body, format="json")
    anonymous = APIClient().post(api(path), body, format="json")
    assert (customer.status_code, staff.status_code, anonymous.status_code) == (403, 403, 401)
    assert staff.json()["code"] == "permission_denied"
    assert not (ShippingMethod.objects.exists() or TaxRate.objects.exists())
    assert not Coupon.objects.exists()
