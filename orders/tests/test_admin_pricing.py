"""Pricing in the admin: staff edit methods, rates and coupons; a coupon shows its uses,
which only checkout changes; the order page shows the address and the breakdown."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.checkout import Delivery, place_order
from pricing.models import Coupon
from pricing.tests.factories import (
    CouponFactory,
    ShippingMethodFactory,
    TaxRateFactory,
    coupon_admin_form,
)
from shop.tests.factories import AddressFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed():
    customer = UserFactory()
    address = AddressFactory(user=customer, full_name="Ada Lovelace", city="Berlin")
    ShippingMethodFactory(code="dhl", name="DHL Paket", price=Decimal("4.90"), countries=["DE"])
    TaxRateFactory(country="DE", rate=Decimal("19.00"))
    CouponFactory(code="SPRING", kind=Coupon.Kind.FIXED, value=Decimal("5.00"), max_uses=3)
    product = ProductFactory(price=Decimal("20.00"), requires_shipping=True)
    return place_order(
        user=customer,
        lines=[(product.pk, 1)],
        delivery=Delivery(shipping_address_id=address.pk, shipping_method="dhl", coupon="spring"),
    )


def test_coupon_page_shows_uses_read_only(admin_client, placed):
    coupon = Coupon.objects.get()
    listing = admin_client.get(reverse("admin:pricing_coupon_changelist")).content.decode()
    assert "SPRING" in listing
    page = admin_client.get(reverse("admin:pricing_coupon_change", args=[coupon.pk]))
    html = page.content.decode()
    assert 'name="uses"' not in html  # shown, not editable
    assert str(placed.pk) in html  # the order holding the use
    # Posting a count changes nothing: only checkout counts uses.
    data = coupon_admin_form(uses="0")
    response = admin_client.post(reverse("admin:pricing_coupon_change", args=[coupon.pk]), data)
    assert response.status_code == 302
    coupon.refresh_from_db()
    assert (coupon.value, coupon.uses) == (Decimal("6.00"), 1)


def test_coupon_code_unique_ignoring_case_in_the_admin(admin_client):
    CouponFactory(code="SPRING")
    data = {"code": "spring", "kind": "percent", "value": "5", "min_subtotal": "0"}
    response = admin_client.post(reverse("admin:pricing_coupon_add"), data)
    assert response.status_code == 200  # the form again, with the error
    assert Coupon.objects.count() == 1


def test_shipping_method_and_tax_rate_lists(admin_client):
    ShippingMethodFactory(code="dhl", countries=["DE", "AT"])
    TaxRateFactory(country="US", region="CA", rate=Decimal("7.25"))
    methods = admin_client.get(reverse("admin:pricing_shippingmethod_changelist")).content
    assert b"DE, AT" in methods or b"AT, DE" in methods
    rates = admin_client.get(reverse("admin:pricing_taxrate_changelist")).content
    assert b"7.25" in rates


def test_order_page_shows_the_address_and_breakdown(admin_client, placed):
    html = admin_client.get(reverse("admin:orders_order_change", args=[placed.pk])).content
    html = html.decode()
    # 20.00 - 5.00 + 4.90 = 19.90; tax 3.781 -> 3.78; total 23.68
    for text in ["Ada Lovelace<br>", "Berlin", "Germany", "SPRING", "DHL Paket", "3.78", "23.68"]:
        assert text in html, text
