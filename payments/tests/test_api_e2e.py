"""End to end over HTTP: the shop under live_server, the offline Stripe simulator sending
signed webhooks, and a client using the official `stripe` SDK like a mobile app would."""

import time
from decimal import Decimal

import pytest
import requests
import stripe
from django.core.cache import cache

from payments.models import Payment, Refund
from shop.models import Inventory
from shop.tests.factories import ProductFactory, StaffFactory

PASSWORD = "correct-horse-battery"


def _wait_for(fetch, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_register_checkout_pay_with_stripe_sdk_fulfil_and_refund(
    stripe_sim_live, live_server, settings
):
    cache.clear()
    base = f"{live_server.url}/api/v1"
    product = ProductFactory(price=Decimal("30.00"), stock=5)
    staff = StaffFactory(permissions=["orders.change_order", "payments.add_refund"])
    http = requests.Session()

    # Register: the answer carries the tokens.
    registered = http.post(
        f"{base}/auth/register", json={"email": "e2e@example.com", "password": PASSWORD}
    )
    assert registered.status_code == 201, registered.text
    customer = {"Authorization": f"Bearer {registered.json()['access']}"}

    # Checkout: the PaymentIntent is created after the commit.
    checkout = http.post(
        f"{base}/orders/checkout",
        json={"items": [{"product_id": product.pk, "quantity": 2}]},
        headers={**customer, "Idempotency-Key": "e2e-1"},
    )
    assert checkout.status_code == 201, checkout.text
    order = checkout.json()
    assert order["status"] == "payment_pending"
    assert order["total"] == "60.00"
    payment = order["payment"]
    assert payment["payment_intent_id"].startswith("pi_")
    assert payment["client_secret"].startswith(payment["payment_intent_id"])

    # The app confirms with the publishable key and the client secret, as Stripe.js does.
    browser = stripe.StripeClient(
        api_key=settings.STRIPE_PUBLISHABLE_KEY,
        base_addresses={"api": stripe_sim_live.url},
        http_client=stripe.RequestsClient(timeout=10),
    )
    confirmed = browser.v1.payment_intents.confirm(
        payment["payment_intent_id"],
        {"payment_method": "pm_card_visa", "client_secret": payment["client_secret"]},
    )
    assert confirmed.status == "succeeded"

    # The webhook marks the order paid; the client polls.
    order_url = f"{base}/orders/{order['id']}"
    paid = _wait_for(
        lambda: http.get(order_url, headers=customer).json(), lambda o: o["status"] == "paid"
    )
    assert paid["status"] == "paid"
    assert paid["payment"]["status"] == "succeeded"
    assert paid["payment"]["client_secret"] is None

    # Staff fulfil, then refund part, then the rest.
    token = http.post(f"{base}/auth/token", json={"email": staff.email, "password": PASSWORD})
    staff_headers = {"Authorization": f"Bearer {token.json()['access']}"}
    fulfilled = http.post(f"{order_url}/fulfil", headers=staff_headers)
    assert fulfilled.status_code == 200, fulfilled.text
    assert fulfilled.json()["status"] == "fulfilled"

    part = http.post(f"{order_url}/refund", json={"amount": "25.00"}, headers=staff_headers)
    assert part.status_code == 200, part.text
    assert part.json()["status"] == "fulfilled"
    rest = http.post(f"{order_url}/refund", json={}, headers=staff_headers)
    assert rest.status_code == 200, rest.text
    assert rest.json()["status"] == "refunded"

    stored = Payment.objects.get(stripe_payment_intent_id=payment["payment_intent_id"])
    assert stored.amount_refunded == Decimal("60.00")
    refunds = _wait_for(
        lambda: list(Refund.objects.filter(payment=stored).order_by("created_at")),
        lambda rs: all(r.status == Refund.Status.SUCCEEDED for r in rs),
    )
    assert [(r.amount, r.status) for r in refunds] == [
        (Decimal("25.00"), "succeeded"),
        (Decimal("35.00"), "succeeded"),
    ]
    # Stripe agrees: the PaymentIntent's charge is fully refunded.
    server = stripe.StripeClient(
        api_key=settings.STRIPE_SECRET_KEY, base_addresses={"api": stripe_sim_live.url}
    )
    intent = server.v1.payment_intents.retrieve(payment["payment_intent_id"])
    assert intent.amount_received == 6000
    final = http.get(order_url, headers=customer).json()
    assert final["status"] == "refunded"
    row = Inventory.objects.get(pk=product.pk)
    assert (row.available, row.reserved) == (3, 0)  # refunded without restock
