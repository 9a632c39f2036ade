"""The checkout page: reviewing the cart, placing the order once, and every error path."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order
from shop import cart
from shop.models import CartItem, Inventory
from shop.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

S = Order.Status


TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def mug():
    return ProductFactory(name="Enamel mug", price=Decimal("12.50"), stock=5)


@pytest.fixture
def pen():
    return ProductFactory(name="Brass pen", price=Decimal("40.00"), stock=2)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def stock(product) -> tuple[int, int]:
    inv = Inventory.objects.get(product=product)
    return inv.available, inv.reserved


def fill_cart(user, *lines):
    for product, quantity in lines:
        cart.set_quantity(product_id=product.pk, quantity=quantity, user=user)


def checkout(client, token=TOKEN, **kwargs):
    return client.post(reverse("shop:checkout"), {"token": token}, **kwargs)


def test_checkout_needs_login(client):
    url = reverse("shop:checkout")

    assert client.get(url)["Location"] == f"{reverse('login')}?next={url}"
    assert checkout(client)["Location"] == f"{reverse('login')}?next={url}"
    assert Order.objects.count() == 0


def test_checkout_page_reviews_lines_total_and_renders_a_token(customer_client, customer, mug, pen):
    fill_cart(customer, (mug, 2), (pen, 1))

    # Nothing to ship: straight to the review step.
    assert customer_client.get(reverse("shop:checkout"))["Location"] == reverse(
        "shop:checkout-review"
    )
    response = customer_client.get(reverse("shop:checkout-review"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="checkout-line"') == 2
    assert 'data-testid="total">$65.00<' in html
    token = response.context["form"]["token"].value()
    assert len(token) == 32
    assert f'type="hidden" name="token" value="{token}"' in html
    # A new page gets a new token: only the same form submitted twice replays.
    again = customer_client.get(reverse("shop:checkout-review"))
    assert again.context["form"]["token"].value() != token


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(customer_client):
    response = customer_client.get(reverse("shop:checkout"), follow=True)

    assert response.redirect_chain == [(reverse("shop:cart"), 302)]
    assert "Your cart is empty: add something first." in messages_of(response)


def test_placing_the_order_reserves_stock_keeps_the_cart_and_goes_to_payment(
    customer_client, customer, mug, pen
):
    fill_cart(customer, (mug, 2), (pen, 1))

    response = checkout(customer_client)

    order = Order.objects.get(user=customer)
    assert response["Location"] == reverse("orders:pay", args=[order.pk])
    assert order.idempotency_key == TOKEN
    assert order.total == Decimal("65.00")
    assert stock(mug) == (3, 2) and stock(pen) == (1, 1)
    # The lines stay until the order is paid (orders/tests/test_cart_after_payment.py).
    assert set(CartItem.objects.filter(cart__user=customer).values_list("product", "quantity")) == {
        (mug.pk, 2),
        (pen.pk, 1),
    }


def test_a_resubmitted_form_makes_one_order(customer_client, customer, mug):
    fill_cart(customer, (mug, 2))

    first = checkout(customer_client)
    again = checkout(customer_client, follow=True)

    order = Order.objects.get(user=customer)
    assert first["Location"] == reverse("orders:pay", args=[order.pk])
    assert again.redirect_chain[0] == (reverse("orders:pay", args=[order.pk]), 302)
    assert "This order was already placed." in messages_of(again)
    assert stock(mug) == (3, 2)


def test_a_double_click_while_the_cart_still_holds_the_lines_makes_one_order(
    customer_client, customer, mug
):
    """The second request of a double click reads the cart the first one ordered."""
    fill_cart(customer, (mug, 2))
    checkout(customer_client)

    response = checkout(customer_client, follow=True)

    assert Order.objects.filter(user=customer).count() == 1
    assert "This order was already placed." in messages_of(response)
    assert stock(mug) == (3, 2)


def test_the_same_token_with_another_cart_is_refused(customer_client, customer, mug, pen):
    fill_cart(customer, (mug, 1))
    checkout(customer_client)
    fill_cart(customer, (pen, 1))

    response = checkout(customer_client, follow=True)

    assert response.redirect_chain == [(reverse("shop:cart"), 302)]
    assert "This idempotency key was already used for a different request." in messages_of(response)
    assert Order.objects.filter(user=customer).count() == 1


def test_out_of_stock_goes_back_to_the_cart_naming_the_product_and_reserves_nothing(
    customer_client, customer, mug, pen
):
    fill_cart(customer, (mug, 1), (pen, 2))
    Inventory.objects.filter(product=pen).update(available=1, received=1)

    response = checkout(customer_client, follow=True)

    assert response.redirect_chain == [(reverse("shop:cart"), 302)]
    assert "Brass pen: 2 requested, only 1 available." in messages_of(response)
    assert "Brass pen: only 1 left (you have 2)." in response.content.decode()
    assert Order.objects.count() == 0
    assert stock(mug) == (5, 0) and stock(pen) == (1, 0)
    assert CartItem.objects.filter(cart__user=customer).count() == 2


def test_checkout_without_a_token_is_refused(customer_client, customer, mug):
    fill_cart(customer, (mug, 1))

    response = customer_client.post(reverse("shop:checkout"), {}, follow=True)

    assert "The checkout form was incomplete. Please review and try again." in messages_of(response)
    assert Order.objects.count() == 0
