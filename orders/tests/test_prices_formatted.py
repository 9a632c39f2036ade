"""Every price on the cart and order pages goes through the `money` filter: grouped and
with its currency ("$1,499.90"), never "1499.90 USD" built by hand."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order
from orders.tests.factories import make_order
from shop import cart
from shop.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
S = Order.Status


@pytest.fixture
def bike():
    return ProductFactory(name="Gravel bike", price=Decimal("1499.90"), stock=5)


def test_cart_lines_show_price_and_total_with_the_currency(customer_client, customer, bike):
    cart.set_quantity(product_id=bike.pk, quantity=2, user=customer)

    html = customer_client.get(reverse("shop:cart")).content.decode()

    assert '<td data-label="Price">$1,499.90</td>' in html
    assert '<td class="num" data-label="Total">$2,999.80</td>' in html
    assert 'data-testid="subtotal">$2,999.80<' in html
    assert "USD" not in html


def test_order_list_detail_and_pay_pages(customer_client, customer, bike):
    order = make_order(user=customer, lines=[(bike.pk, 2)], status=S.PAYMENT_PENDING)

    listing = customer_client.get(reverse("orders:list")).content.decode()
    detail = customer_client.get(order.get_absolute_url()).content.decode()
    pay = customer_client.get(reverse("orders:pay", args=[order.pk])).content.decode()

    assert '<td class="num" data-label="Total">$2,999.80</td>' in listing
    assert '<td class="num" data-label="Price">$1,499.90</td>' in detail
    assert 'data-testid="total">$2,999.80</td>' in detail
    assert "Total: <strong>$2,999.80</strong>" in pay
    for html in (listing, detail, pay):
        assert "USD" not in html
