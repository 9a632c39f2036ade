"""The customer's checkout and order pages, and every error path."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from orders.tests.factories import make_order
from shop import cart
from shop.models import CartItem, Inventory, Product
from shop.tests.factories import ProductFactory, UserFactory

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


# Checkout


def test_checkout_needs_login(client):
    url = reverse("shop:checkout")

    assert client.get(url)["Location"] == f"{reverse('login')}?next={url}"
    assert checkout(client)["Location"] == f"{reverse('login')}?next={url}"
    assert Order.objects.count() == 0


def test_checkout_page_reviews_lines_total_and_renders_a_token(customer_client, customer, mug, pen):
    fill_cart(customer, (mug, 2), (pen, 1))

    response = customer_client.get(reverse("shop:checkout"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="checkout-line"') == 2
    assert 'data-testid="total">65.00 USD<' in html
    token = response.context["form"]["token"].value()
    assert len(token) == 32
    assert f'type="hidden" name="token" value="{token}"' in html
    # A new page gets a new token: only the same form submitted twice replays.
    assert customer_client.get(reverse("shop:checkout")).context["form"]["token"].value() != token


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(customer_client):
    response = customer_client.get(reverse("shop:checkout"), follow=True)

    assert response.redirect_chain == [(reverse("shop:cart"), 302)]
    assert "Your cart is empty: add something first." in messages_of(response)


def test_placing_the_order_reserves_stock_empties_the_cart_and_goes_to_payment(
    customer_client, customer, mug, pen
):
    fill_cart(customer, (mug, 2), (pen, 1))

    response = checkout(customer_client)

    order = Order.objects.get(user=customer)
    assert response["Location"] == reverse("orders:pay", args=[order.pk])
    assert order.idempotency_key == TOKEN
    assert order.total == Decimal("65.00")
    assert stock(mug) == (3, 2) and stock(pen) == (1, 1)
    assert not CartItem.objects.filter(cart__user=customer).exists()


def test_a_resubmitted_form_makes_one_order(customer_client, customer, mug):
    fill_cart(customer, (mug, 2))

    first = checkout(customer_client)
    again = checkout(customer_client, follow=True)  # the cart is empty by now

    order = Order.objects.get(user=customer)
    assert first["Location"] == reverse("orders:pay", args=[order.pk])
    assert again.redirect_chain[0] == (reverse("orders:pay", args=[order.pk]), 302)
    assert "This order was already placed." in messages_of(again)
    assert stock(mug) == (3, 2)


def test_a_double_click_while_the_cart_still_holds_the_lines_makes_one_order(
    customer_client, customer, mug
):
    """The second request of a double click reads the cart before the first empties it."""
    fill_cart(customer, (mug, 2))
    checkout(customer_client)
    fill_cart(customer, (mug, 2))  # as the second request saw it

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


# Someone else's order, anonymous visitors


@pytest.mark.parametrize("name", ["detail", "pay", "status"])
def test_another_customers_order_is_404(client, name):
    order = make_order()
    client.force_login(UserFactory())

    response = client.get(reverse(f"orders:{name}", args=[order.pk]))

    assert response.status_code == 404


def test_another_customers_order_cannot_be_cancelled_or_paid(client):
    order = make_order()
    client.force_login(UserFactory())

    assert client.post(reverse("orders:cancel", args=[order.pk])).status_code == 404
    assert client.post(reverse("orders:pay", args=[order.pk])).status_code == 404
    assert Order.objects.get(pk=order.pk).status == S.CREATED


@pytest.mark.parametrize("name", ["detail", "pay", "cancel"])
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    order = make_order()
    url = reverse(f"orders:{name}", args=[order.pk])

    response = client.get(url) if name != "cancel" else client.post(url)

    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_order_list_and_status_json(client):
    order = make_order()

    assert client.get(reverse("orders:list"))["Location"].startswith(reverse("login"))
    assert client.get(reverse("orders:status", args=[order.pk])).status_code == 404


# Order list and order page


def test_order_list_shows_only_my_orders_with_human_status(customer_client, customer, mug):
    mine = make_order(user=customer, lines=[(mug.pk, 3)], status=S.PAID)
    make_order(status=S.PAID)

    response = customer_client.get(reverse("orders:list"))

    html = response.content.decode()
    assert [o.pk for o in response.context["page"]] == [mine.pk]
    assert mine.short_id in html
    assert 'status--paid">Paid<' in html
    assert 'data-label="Items">3<' in html


@pytest.mark.parametrize("orders", [2, 12])
def test_order_list_query_count_does_not_grow_with_orders(
    customer_client, customer, orders, django_assert_max_num_queries
):
    for _ in range(orders):
        make_order(user=customer)

    # session, user, count, page of orders with their units, cart badge
    with django_assert_max_num_queries(5):
        response = customer_client.get(reverse("orders:list"))

    assert len(response.context["page"]) == orders


def test_order_page_shows_snapshot_prices_status_and_timeline(customer_client, customer, mug):
    order = make_order(user=customer, lines=[(mug.pk, 2)], status=S.FULFILLED)
    Product.objects.filter(pk=mug.pk).update(price=Decimal("99.00"), name="Renamed")

    response = customer_client.get(order.get_absolute_url())

    html = response.content.decode()
    assert "Enamel mug" in html and "Renamed" not in html
    assert 'data-label="Price">12.50<' in html and "99.00" not in html
    assert 'data-testid="order-status"' in html and ">Fulfilled<" in html
    assert [e["label"] for e in response.context["timeline"]] == [
        "Order placed, items reserved",
        "Waiting for your payment",
        "Payment received",
        "Order fulfilled and on its way",
    ]
    assert "data-poll" not in html  # nothing left to wait for
    assert "Cancel order" not in html


def test_a_pending_order_page_polls_and_offers_pay_and_cancel(customer_client, customer):
    order = make_order(user=customer, status=S.PAYMENT_PENDING)

    html = customer_client.get(order.get_absolute_url()).content.decode()

    assert f'data-poll="{reverse("orders:status", args=[order.pk])}"' in html
    assert "js/order-status.js" in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert f'href="{reverse("orders:pay", args=[order.pk])}">Pay now<' in html
    assert f'action="{reverse("orders:cancel", args=[order.pk])}"' in html


def test_status_json_answers_status_and_label(customer_client, customer):
    order = make_order(user=customer, status=S.PAYMENT_PENDING)

    response = customer_client.get(reverse("orders:status", args=[order.pk]))

    assert response.json() == {"status": "payment_pending", "label": "Payment pending"}
    assert "no-cache" in response["Cache-Control"]


def test_cancel_releases_the_stock(customer_client, customer, mug):
    order = make_order(user=customer, lines=[(mug.pk, 2)], status=S.PAYMENT_PENDING)

    response = customer_client.post(reverse("orders:cancel", args=[order.pk]), follow=True)

    assert Order.objects.get(pk=order.pk).status == S.CANCELLED
    assert stock(mug) == (5, 0)
    assert f"Order {order.short_id} is cancelled; nothing was charged." in messages_of(response)
    assert "Order cancelled" in response.content.decode()


def test_cancelling_a_paid_order_is_refused_with_a_message(customer_client, customer):
    order = make_order(user=customer, status=S.PAID)

    response = customer_client.post(reverse("orders:cancel", args=[order.pk]), follow=True)

    assert Order.objects.get(pk=order.pk).status == S.PAID
    assert f"Order {order.short_id} is paid; 'cancel' is not possible." in messages_of(response)


def test_cancel_needs_post(customer_client, customer):
    order = make_order(user=customer)

    assert customer_client.get(reverse("orders:cancel", args=[order.pk])).status_code == 405
    assert Order.objects.get(pk=order.pk).status == S.CREATED


def test_an_order_past_its_reservation_has_no_pay_button(customer_client, customer):
    order = make_order(user=customer, status=S.PAYMENT_PENDING)
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = customer_client.get(order.get_absolute_url())

    assert response.context["can_pay"] is False
    assert "Pay now" not in response.content.decode()
