"""The payment page of an order (payments.views.order_pay), the page the browser comes
back to after confirming a payment (order_pay_return), and the PaymentIntent a checkout
from the checkout page gets after its commit."""

import re
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.urls import reverse

from orders.models import Order
from orders.tests.factories import make_due, make_order
from payments import gateway
from payments.models import Payment, Refund
from payments.services import apply_payment_intent, ensure_payment
from payments.tests.helpers import checkout as checkout_order
from payments.tests.helpers import confirm, payment_of, retrieve
from shop import cart
from shop.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

S = Order.Status


TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def mug():
    return ProductFactory(name="Enamel mug", price=Decimal("12.50"), stock=5)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def fill_cart(user, *lines):
    for product, quantity in lines:
        cart.set_quantity(product_id=product.pk, quantity=quantity, user=user)


def checkout(client, token=TOKEN, **kwargs):
    return client.post(reverse("shop:checkout"), {"token": token}, **kwargs)


def confirm_in_browser(sim, payment: Payment, card: str) -> requests.Response:
    """What the pay page's script does: publishable key + client secret, straight to Stripe."""
    return requests.post(
        f"{sim.url}/v1/payment_intents/{payment.stripe_payment_intent_id}/confirm",
        data={
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": card,
            "client_secret": payment.client_secret,
        },
        headers={"Authorization": f"Bearer {settings.STRIPE_PUBLISHABLE_KEY}"},
        timeout=5,
    )


# Checkout


def test_checkout_creates_the_payment_intent_after_the_commit(
    customer_client, customer, mug, stripe_sim, django_capture_on_commit_callbacks
):
    fill_cart(customer, (mug, 1))

    with django_capture_on_commit_callbacks(execute=True):
        checkout(customer_client)

    order = Order.objects.get(user=customer)
    assert order.status == S.PAYMENT_PENDING
    assert order.payment.stripe_payment_intent_id.startswith("pi_")


# Payment page


@pytest.fixture
def pending(customer, mug, stripe_sim):
    """An order awaiting payment, with its PaymentIntent at the simulator."""
    order = make_order(user=customer, lines=[(mug.pk, 2)])
    ensure_payment(order=order)
    return Order.objects.get(pk=order.pk)


def test_pay_page_renders_the_simulator_card_form(customer_client, pending, stripe_sim):
    payment = pending.payment

    response = customer_client.get(reverse("orders:pay", args=[pending.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-simulator="{stripe_sim.url}"' in html
    assert f'data-intent="{payment.stripe_payment_intent_id}"' in html
    assert f'data-secret="{payment.client_secret}"' in html
    assert f'data-key="{settings.STRIPE_PUBLISHABLE_KEY}"' in html
    assert '<label for="card-number">Card number</label>' in html
    assert "js/pay-simulator.js" in html
    assert "js.stripe.com" not in html
    assert 0 < response.context["seconds_left"] <= settings.RESERVATION_TTL.total_seconds()
    # The card form posts nowhere on the shop: it has no action and no CSRF token.
    form = html[
        html.index('id="payment-form"') : html.index("</form>", html.index('id="payment-form"'))
    ]
    assert "action=" not in form and "csrfmiddlewaretoken" not in form


def test_pay_page_uses_the_payment_element_with_real_stripe(customer_client, pending, settings):
    settings.STRIPE_API_BASE = ""

    html = customer_client.get(reverse("orders:pay", args=[pending.pk])).content.decode()

    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert "js/pay-stripe.js" in html
    assert f'data-secret="{pending.payment.client_secret}"' in html
    # Stripe sends the browser back to the page that asks it about the payment at once.
    back = reverse("orders:pay-return", args=[pending.pk])
    assert f'data-return-url="http://testserver{back}"' in html
    assert "pay-simulator.js" not in html


def test_a_decline_shows_the_reason_and_the_form_again(customer_client, pending, stripe_sim):
    answer = confirm_in_browser(stripe_sim, pending.payment, "4000 0000 0000 0002")
    assert answer.status_code == 402
    assert answer.json()["error"]["message"] == "Your card was declined."
    intent = gateway.retrieve_payment_intent(pending.payment.stripe_payment_intent_id)
    apply_payment_intent(payment_intent=intent, declined=True)  # what the webhook does

    pay = customer_client.get(reverse("orders:pay", args=[pending.pk])).content.decode()
    detail = customer_client.get(pending.get_absolute_url()).content.decode()

    assert "Your last attempt did not go through: Your card was declined." in pay
    assert 'id="payment-form"' in pay
    assert 'Payment declined</span>: <span class="note">Your card was declined.</span>' in detail
    assert Order.objects.get(pk=pending.pk).status == S.PAYMENT_PENDING
    # Stripe writes in English; a German customer reads it in German, on the pages and
    # in the card form's script (its messages come with the form).
    customer_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    pay = customer_client.get(reverse("orders:pay", args=[pending.pk])).content.decode()
    detail = customer_client.get(pending.get_absolute_url()).content.decode()
    assert "Ihre Karte wurde abgelehnt." in pay
    assert '<span class="note">Ihre Karte wurde abgelehnt.</span>' in detail
    assert 'data-msg-number="Geben Sie die Kartennummer ein: 12 bis 19 Ziffern."' in pay
    assert "&quot;Your card was declined.&quot;: &quot;Ihre Karte wurde abgelehnt.&quot;" in pay


def test_pay_page_of_an_order_past_its_reservation_offers_no_form(customer_client, pending):
    make_due(pending)

    response = customer_client.get(reverse("orders:pay", args=[pending.pk]))

    html = response.content.decode()
    assert response.context["expired"] is True
    assert "The reservation for this order has expired" in html
    assert 'id="payment-form"' not in html


def test_pay_page_of_an_expired_order_goes_to_the_order(customer_client, customer):
    order = make_order(user=customer, status=S.EXPIRED)

    response = customer_client.get(reverse("orders:pay", args=[order.pk]), follow=True)

    assert response.redirect_chain == [(order.get_absolute_url(), 302)]
    assert "This order's status: Expired." in messages_of(response)
    assert "Reservation expired" in response.content.decode()


def test_pay_page_without_a_payment_intent_offers_to_try_again(customer_client, customer):
    order = make_order(user=customer)  # Stripe was unreachable at checkout

    html = customer_client.get(reverse("orders:pay", args=[order.pk])).content.decode()

    assert "Try payment again" in html
    assert f'action="{reverse("orders:pay", args=[order.pk])}"' in html
    assert 'id="payment-form"' not in html


def test_try_again_creates_the_payment_intent(customer_client, customer, stripe_sim):
    order = make_order(user=customer)

    response = customer_client.post(reverse("orders:pay", args=[order.pk]), follow=True)

    order = Order.objects.get(pk=order.pk)
    assert order.status == S.PAYMENT_PENDING
    assert "The payment form is ready." in messages_of(response)
    assert f'data-intent="{order.payment.stripe_payment_intent_id}"' in response.content.decode()


def test_try_again_while_stripe_is_down_says_so(customer_client, customer, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # refuses connections
    order = make_order(user=customer)

    response = customer_client.post(reverse("orders:pay", args=[order.pk]), follow=True)

    assert "The payment provider cannot be reached right now. Please try again." in messages_of(
        response
    )
    assert Order.objects.get(pk=order.pk).status == S.CREATED


# Back from confirming a payment (orders:pay-return)


@pytest.mark.django_db(transaction=True)
def test_back_from_a_successful_payment_the_order_is_paid_without_waiting_for_the_webhook(
    client, stripe_sim
):
    order = checkout_order(ProductFactory(stock=5), quantity=1)
    confirm(stripe_sim, payment_of(order).stripe_payment_intent_id)  # no webhook is delivered
    client.force_login(order.user)

    response = client.get(reverse("orders:pay-return", args=[order.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:confirmation", args=[order.pk])
    assert Order.objects.get(pk=order.pk).status == S.PAID


def test_back_to_an_order_that_is_no_longer_paid_the_order_page_shows_it(customer_client, customer):
    order = make_order(user=customer, status=S.REFUNDED)

    response = customer_client.get(reverse("orders:pay-return", args=[order.pk]))

    assert response["Location"] == order.get_absolute_url()


@pytest.mark.django_db(transaction=True)
def test_back_from_a_processing_payment_the_order_page_shows_confirming_without_buttons(
    client, stripe_sim
):
    order = checkout_order(ProductFactory(stock=5), quantity=1)
    confirm(stripe_sim, payment_of(order).stripe_payment_intent_id, "pm_card_processing")
    client.force_login(order.user)

    response = client.get(reverse("orders:pay-return", args=[order.pk]), follow=True)

    assert response.redirect_chain == [(f"{order.get_absolute_url()}?confirming=1", 302)]
    html = response.content.decode()
    assert 'data-testid="confirming"' in html
    assert reverse("orders:pay", args=[order.pk]) not in html
    assert reverse("orders:cancel", args=[order.pk]) not in html
    # Reloaded without the marker, the processing payment still keeps the buttons away.
    again = client.get(order.get_absolute_url()).content.decode()
    assert 'data-testid="confirming"' in again
    assert reverse("orders:cancel", args=[order.pk]) not in again


@pytest.mark.django_db(transaction=True)
def test_the_pay_page_of_a_payment_being_confirmed_sends_the_customer_to_the_order(
    client, stripe_sim
):
    order = checkout_order(ProductFactory(stock=5), quantity=1)
    confirm(stripe_sim, payment_of(order).stripe_payment_intent_id, "pm_card_processing")
    apply_payment_intent(
        payment_intent=retrieve(stripe_sim, payment_of(order).stripe_payment_intent_id)
    )
    client.force_login(order.user)

    response = client.get(reverse("orders:pay", args=[order.pk]))

    assert response["Location"] == f"{order.get_absolute_url()}?confirming=1"


def test_back_while_stripe_is_unreachable_the_order_page_shows_confirming(
    customer_client, customer
):
    order = make_order(user=customer)  # Stripe is unreachable in these tests

    response = customer_client.get(reverse("orders:pay-return", args=[order.pk]))

    assert response["Location"] == f"{order.get_absolute_url()}?confirming=1"


def test_back_to_someone_elses_order_is_404(customer_client):
    order = make_order()

    response = customer_client.get(reverse("orders:pay-return", args=[order.pk]))

    assert response.status_code == 404


def test_the_customer_sees_each_card_refund_and_where_it_is(client, mug):
    order = make_order(lines=[(mug.pk, 2)], status=S.PAID)
    payment = Payment.objects.create(
        order=order,
        stripe_payment_intent_id="pi_refunds",
        amount=order.total,
        currency=order.currency,
        status=Payment.Status.SUCCEEDED,
        amount_received=order.total,
    )
    Refund.objects.create(payment=payment, amount=Decimal("5.00"), status="succeeded")
    Refund.objects.create(payment=payment, amount=Decimal("2.50"), status="pending")
    client.force_login(order.user)

    html = client.get(order.get_absolute_url()).content.decode()

    refunds = re.findall(r'data-testid="refund">.*?</time>: (.*?)</li>', html)
    assert refunds == ["$5.00 · Refunded to your card", "$2.50 · On its way to your card"]
