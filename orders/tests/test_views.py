"""The customer's order pages: the list, an order's page and status, cancelling, and
who may see them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from orders.models import Order
from orders.tests.factories import make_order
from shop.models import Inventory, Product
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Order.Status


@pytest.fixture
def mug():
    return ProductFactory(name="Enamel mug", price=Decimal("12.50"), stock=5)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def stock(product) -> tuple[int, int]:
    inv = Inventory.objects.get(product=product)
    return inv.available, inv.reserved


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
    assert 'data-label="Price">$12.50<' in html and "99.00" not in html
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
    assert f"Order {order.short_id} cannot be cancelled: it is paid." in messages_of(response)


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


def test_an_address_names_its_country_in_the_pages_language():
    snapshot = {"full_name": "Ada", "line1": "Unter den Linden 1", "postal_code": "10117"}
    snapshot |= {"city": "Berlin", "country": "DE"}

    english = render_to_string("orders/_address.html", {"address": snapshot})
    with translation.override("de"):
        german = render_to_string("orders/_address.html", {"address": snapshot})

    assert "<br>Germany</address>" in english
    assert "<br>Deutschland</address>" in german
