"""The "thank you" page after payment (orders:confirmation)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order
from orders.tests.factories import make_order
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Order.Status


@pytest.fixture
def paid(customer):
    mug = ProductFactory(name="Enamel mug", sku="MUG-1", price=Decimal("1499.90"), stock=5)
    pen = ProductFactory(name="Brass pen", sku="PEN-1", price=Decimal("2.50"), stock=5)
    return make_order(user=customer, lines=[(mug.pk, 1), (pen.pk, 2)], status=S.PAID)


def test_the_page_shows_number_items_totals_and_what_happens_next(customer_client, paid):
    response = customer_client.get(reverse("orders:confirmation", args=[paid.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Thank you for your order</h1>" in html
    assert f"Your order number is <strong>{paid.short_id}</strong>." in html
    assert html.count('data-testid="order-item"') == 2
    assert '<td class="num" data-label="Total">$1,499.90</td>' in html
    assert '<td class="num" data-label="Total">$5.00</td>' in html
    assert 'data-testid="breakdown-subtotal">$1,504.90</td>' in html
    assert 'data-testid="breakdown-tax">$0.00</td>' in html
    assert 'data-testid="total">$1,504.90</td>' in html
    assert f"A receipt is on its way to {paid.user.email}." in html
    assert f'href="{paid.get_absolute_url()}"' in html


def test_a_fulfilled_order_still_has_its_page(customer_client, customer):
    order = make_order(user=customer, status=S.FULFILLED)

    response = customer_client.get(reverse("orders:confirmation", args=[order.pk]))

    assert response.status_code == 200


@pytest.mark.parametrize("status", [S.PAYMENT_PENDING, S.CANCELLED, S.REFUNDED])
def test_an_order_not_paid_or_no_longer_paid_goes_to_its_order_page(
    customer_client, customer, status
):
    order = make_order(user=customer, status=status)

    response = customer_client.get(reverse("orders:confirmation", args=[order.pk]))

    assert response["Location"] == order.get_absolute_url()


def test_another_customers_order_is_404(customer_client):
    order = make_order(user=UserFactory(), status=S.PAID)

    assert customer_client.get(reverse("orders:confirmation", args=[order.pk])).status_code == 404


def test_the_order_page_that_waited_for_the_payment_moves_on_to_the_thank_you_page(
    customer_client, paid
):
    response = customer_client.get(f"{paid.get_absolute_url()}?confirming=1")

    assert response["Location"] == reverse("orders:confirmation", args=[paid.pk])
    # Without the marker, the order page itself.
    assert customer_client.get(paid.get_absolute_url()).status_code == 200
