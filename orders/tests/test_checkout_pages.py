"""The checkout in steps: address -> shipping method -> review with coupon and breakdown
-> place order, through the same services as the API."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order
from pricing.models import Coupon
from pricing.tests.factories import (
    CouponFactory,
    ShippingMethodFactory,
    TaxRateFactory,
)
from shop import cart
from shop.models import Address, Inventory
from shop.tests.factories import AddressFactory, ProductFactory

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {
    "new-full_name": "Ada Lovelace",
    "new-line1": "Unter den Linden 1",
    "new-city": "Berlin",
    "new-postal_code": "10117",
    "new-country": "DE",
}


@pytest.fixture
def lamp(customer):
    product = ProductFactory(
        name="Desk lamp", price=Decimal("80.00"), requires_shipping=True, stock=5
    )
    cart.set_quantity(product_id=product.pk, quantity=1, user=customer)
    ShippingMethodFactory(
        code="dhl",
        name="DHL Paket",
        price=Decimal("4.90"),
        free_over=Decimal("100.00"),
        countries=["DE"],
    )
    ShippingMethodFactory(code="ups", name="UPS Standard", price=Decimal("9.00"), countries=["US"])
    TaxRateFactory(country="DE", rate=Decimal("19.00"))
    return product


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_steps_with_a_new_address_a_method_and_a_coupon(customer_client, customer, lamp):
    CouponFactory(code="LAMP10", kind=Coupon.Kind.FIXED, value=Decimal("10.00"))
    assert customer_client.get(reverse("shop:checkout"))["Location"] == reverse(
        "shop:checkout-address"
    )
    page = customer_client.get(reverse("shop:checkout-address"))
    assert page.status_code == 200 and not page.context["has_book"]

    response = customer_client.post(reverse("shop:checkout-address"), NEW_ADDRESS)
    assert response["Location"] == reverse("shop:checkout-shipping")
    address = Address.objects.get(user=customer)
    assert address.country.code == "DE"

    shipping = customer_client.get(reverse("shop:checkout-shipping"))
    html = shipping.content.decode()
    assert [m.code for m in shipping.context["methods"]] == ["dhl"]  # only those for DE
    assert "DHL Paket: $4.90 (free from $100.00)" in html
    assert "UPS" not in html
    response = customer_client.post(reverse("shop:checkout-shipping"), {"method": "dhl"})
    assert response["Location"] == reverse("shop:checkout-review")

    response = customer_client.post(
        reverse("shop:checkout-coupon"), {"coupon": "lamp10"}, follow=True
    )
    assert "Coupon LAMP10 applied." in messages_of(response)
    html = response.content.decode()
    # 80.00 - 10.00 + 4.90 = 74.90; tax 14.231 -> 14.23; total 89.13
    assert 'data-testid="breakdown-discount">&minus;$10.00<' in html
    assert 'data-testid="breakdown-shipping">$4.90<' in html
    assert 'data-testid="breakdown-tax">$14.23<' in html
    assert 'data-testid="total">$89.13<' in html
    assert Inventory.objects.get(pk=lamp.pk).reserved == 0  # the review reserves nothing
    token = response.context["form"]["token"].value()

    placed = customer_client.post(reverse("shop:checkout"), {"token": token})
    order = Order.objects.get(user=customer)
    assert placed["Location"] == reverse("orders:pay", args=[order.pk])
    assert (order.total, order.coupon_code, order.shipping_method_code) == (
        Decimal("89.13"),
        "LAMP10",
        "dhl",
    )
    assert order.shipping_address["city"] == "Berlin"
    assert "checkout" not in customer_client.session


def test_pick_an_address_from_the_book(customer_client, customer, lamp):
    mine = AddressFactory(user=customer, city="Hamburg")
    theirs = AddressFactory(city="Munich")
    page = customer_client.get(reverse("shop:checkout-address"))
    assert page.context["has_book"]
    assert "Munich" not in page.content.decode()
    refused = customer_client.post(reverse("shop:checkout-address"), {"address": theirs.pk})
    assert refused.status_code == 200  # not a choice: the page again, with the error
    assert refused.context["choice"].errors
    chosen = customer_client.post(reverse("shop:checkout-address"), {"address": mine.pk})
    assert chosen["Location"] == reverse("shop:checkout-shipping")


def test_no_method_for_the_country_says_so(customer_client, customer, lamp):
    address = AddressFactory(user=customer, country="JP")
    customer_client.post(reverse("shop:checkout-address"), {"address": address.pk})
    page = customer_client.get(reverse("shop:checkout-shipping"))
    assert "We do not ship to Japan yet." in page.content.decode()


def test_review_of_more_than_the_stock_goes_back_to_the_cart(customer_client, customer, lamp):
    address = AddressFactory(user=customer)
    customer_client.post(reverse("shop:checkout-address"), {"address": address.pk})
    customer_client.post(reverse("shop:checkout-shipping"), {"method": "dhl"})
    Inventory.objects.filter(pk=lamp.pk).update(available=0, received=0)

    response = customer_client.get(reverse("shop:checkout-review"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("shop:cart")
    assert "Desk lamp: 1 requested, only 0 available." in messages_of(response)
    assert "Desk lamp: sold out (you have 1)." in response.content.decode()


def test_review_without_a_method_goes_back(customer_client, lamp):
    response = customer_client.get(reverse("shop:checkout-review"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("shop:checkout-address")
    assert customer_client.get(reverse("shop:checkout-shipping"))["Location"] == reverse(
        "shop:checkout-address"
    )


def test_an_invalid_coupon_is_a_message_and_changes_nothing(customer_client, customer, lamp):
    address = AddressFactory(user=customer)
    customer_client.post(reverse("shop:checkout-address"), {"address": address.pk})
    customer_client.post(reverse("shop:checkout-shipping"), {"method": "dhl"})
    response = customer_client.post(
        reverse("shop:checkout-coupon"), {"coupon": "NOPE"}, follow=True
    )
    assert "This coupon code is not valid." in messages_of(response)
    assert response.context["quote"].coupon is None
    assert 'data-testid="total">$101.03<' in response.content.decode()  # 84.90 + 16.13 tax


def test_the_address_book_is_a_fieldset_named_by_its_legend(customer_client, customer, lamp):
    AddressFactory(user=customer, country="DE")

    book = customer_client.get(reverse("shop:checkout-address")).content.decode()

    assert '<fieldset class="field">\n  <legend>Deliver to</legend>' in book
    assert '<label for="">' not in book


def test_removing_the_coupon_says_so(customer_client, customer, lamp):
    CouponFactory(code="LAMP10", kind=Coupon.Kind.FIXED, value=Decimal("10.00"))
    address = AddressFactory(user=customer)
    customer_client.post(reverse("shop:checkout-address"), {"address": address.pk})
    customer_client.post(reverse("shop:checkout-shipping"), {"method": "dhl"})
    customer_client.post(reverse("shop:checkout-coupon"), {"coupon": "lamp10"})

    response = customer_client.post(reverse("shop:checkout-coupon"), {"remove": "1"}, follow=True)

    assert "The coupon was removed." in messages_of(response)
    assert 'data-testid="breakdown-discount"' not in response.content.decode()
