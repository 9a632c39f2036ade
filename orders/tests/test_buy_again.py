"""Buy again: a past order's still-available items go back into the cart
(orders.reorder.buy_again), and the order pages offer it."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order
from orders.reorder import buy_again
from orders.tests.factories import make_order
from shop import cart
from shop.models import Inventory, Product
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Order.Status


def cart_of(user) -> dict[int, int]:
    return {line.product.pk: line.quantity for line in cart.get_cart(user=user).lines}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def mug():
    return ProductFactory(name="Enamel mug", price=Decimal("12.50"), stock=10)


@pytest.fixture
def pen():
    return ProductFactory(name="Brass pen", stock=10)


@pytest.fixture
def tee():
    return ProductFactory(name="Cotton tee", stock=10)


def test_every_available_line_goes_on_top_of_the_cart(customer, mug, pen):
    order = make_order(user=customer, lines=[(mug.pk, 2), (pen.pk, 1)], status=S.PAID)
    cart.set_quantity(product_id=mug.pk, quantity=1, user=customer)

    result = buy_again(order=order, user=customer)

    assert result.added == [("Enamel mug", 2), ("Brass pen", 1)]
    assert (result.short, result.unavailable) == ([], [])
    assert cart_of(customer) == {mug.pk: 3, pen.pk: 1}


def test_lines_no_longer_for_sale_or_sold_out_are_left_out_and_short_ones_capped(
    customer, mug, pen, tee
):
    order = make_order(user=customer, lines=[(mug.pk, 3), (pen.pk, 1), (tee.pk, 2)], status=S.PAID)
    Product.objects.filter(pk=pen.pk).update(is_active=False)
    Inventory.objects.filter(product=tee).update(available=0)
    Inventory.objects.filter(product=mug).update(available=2)

    result = buy_again(order=order, user=customer)

    assert result.added == []
    assert result.short == [("Enamel mug", 2, 3)]
    assert result.unavailable == ["Brass pen", "Cotton tee"]
    assert cart_of(customer) == {mug.pk: 2}


def test_buying_again_reserves_nothing(customer, mug):
    order = make_order(user=customer, lines=[(mug.pk, 2)], status=S.FULFILLED)

    buy_again(order=order, user=customer)

    inventory = Inventory.objects.get(product=mug)
    assert (inventory.available, inventory.reserved) == (8, 0)


# The page


def test_the_button_puts_the_items_in_the_cart_and_says_so(customer_client, customer, mug, pen):
    order = make_order(user=customer, lines=[(mug.pk, 2), (pen.pk, 1)], status=S.PAID)
    Product.objects.filter(pk=pen.pk).update(is_active=False)

    response = customer_client.post(reverse("orders:buy-again", args=[order.pk]), follow=True)

    assert response.redirect_chain == [(reverse("shop:cart"), 302)]
    assert messages_of(response) == [
        f"2 items from order {order.short_id} are in your cart.",
        "No longer available, not added: Brass pen.",
    ]
    assert cart_of(customer) == {mug.pk: 2}


def test_the_page_tells_what_was_short(customer_client, customer, mug):
    order = make_order(user=customer, lines=[(mug.pk, 3)], status=S.CANCELLED)
    Inventory.objects.filter(product=mug).update(available=1)

    response = customer_client.post(reverse("orders:buy-again", args=[order.pk]), follow=True)

    assert messages_of(response) == [
        f"1 item from order {order.short_id} is in your cart.",
        "Enamel mug: only 1 of the 3 you ordered are in stock now.",
    ]


def test_nothing_available_adds_nothing_and_says_so(customer_client, customer, mug):
    order = make_order(user=customer, lines=[(mug.pk, 1)], status=S.PAID)
    Inventory.objects.filter(product=mug).update(available=0)

    response = customer_client.post(reverse("orders:buy-again", args=[order.pk]), follow=True)

    assert messages_of(response) == ["No longer available, not added: Enamel mug."]
    assert cart_of(customer) == {}


def test_another_customers_order_is_404_and_changes_no_cart(customer_client, customer, mug):
    order = make_order(user=UserFactory(), lines=[(mug.pk, 1)], status=S.PAID)

    response = customer_client.post(reverse("orders:buy-again", args=[order.pk]))

    assert response.status_code == 404
    assert cart_of(customer) == {}


def test_anonymous_visitors_log_in_and_get_is_not_allowed(customer_client, customer):
    order = make_order(user=customer, status=S.PAID)
    url = reverse("orders:buy-again", args=[order.pk])

    assert Client().post(url)["Location"] == f"{reverse('login')}?next={url}"
    assert customer_client.get(url).status_code == 405


def test_the_order_pages_offer_it_for_orders_no_longer_awaiting_payment(
    customer_client, customer, mug
):
    paid = make_order(user=customer, lines=[(mug.pk, 1)], status=S.PAID)
    pending = make_order(user=customer, lines=[(mug.pk, 1)], status=S.PAYMENT_PENDING)
    action = f'action="{reverse("orders:buy-again", args=[paid.pk])}"'

    listing = customer_client.get(reverse("orders:list")).content.decode()
    assert listing.count('data-testid="buy-again"') == 1
    assert action in listing
    assert action in customer_client.get(paid.get_absolute_url()).content.decode()
    pending_page = customer_client.get(pending.get_absolute_url()).content.decode()
    assert 'data-testid="buy-again"' not in pending_page
