"""The Stripe webhook endpoint: verify, store, process exactly once (no simulator needed)."""

import json
import time
import urllib.error
import urllib.request

import pytest

from orders.models import Order
from orders.tests.factories import make_order
from payments import webhooks
from payments.models import Payment, WebhookEvent
from payments.simulator import sign_payload
from payments.tests.helpers import (
    WEBHOOK_PATH,
    audit_count,
    fresh,
    intent_dict,
    make_event,
    post_event,
    signed,
    stock,
)
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import ProductFactory

S = Order.Status


def _pending_order(quantity=2):
    product = ProductFactory(stock=10)
    order = make_order(lines=[(product.pk, quantity)], status=S.PAYMENT_PENDING)
    return order, product


def _succeeded_event(order):
    return make_event("payment_intent.succeeded", intent_dict(order))


# Rejected deliveries: 400, nothing stored


@pytest.mark.django_db
def test_wrong_secret_is_rejected_and_nothing_stored(client):
    order, _ = _pending_order()
    response = post_event(client, _succeeded_event(order), secret="whsec_not_ours")
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert fresh(order.pk).status == S.PAYMENT_PENDING


@pytest.mark.django_db
def test_missing_signature_header_is_rejected(client):
    order, _ = _pending_order()
    body, _ = signed(_succeeded_event(order))
    response = client.post(WEBHOOK_PATH, data=body, content_type="application/json")
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert fresh(order.pk).status == S.PAYMENT_PENDING


@pytest.mark.django_db
def test_tampered_body_is_rejected(client):
    order, _ = _pending_order()
    event = _succeeded_event(order)
    body, signature = signed(event)
    tampered = body.replace('"amount_received": 2000', '"amount_received": 1')
    assert tampered != body
    response = client.post(
        WEBHOOK_PATH,
        data=tampered,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_signed_body_that_is_not_json_is_rejected(client):
    body = "not json at all"
    response = client.post(
        WEBHOOK_PATH,
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_payload(body, "whsec_test_secret"),
    )
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_get_is_not_allowed(client):
    assert client.get(WEBHOOK_PATH).status_code == 405
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_stale_timestamp_is_rejected(client):
    order, _ = _pending_order()
    response = post_event(client, _succeeded_event(order), timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert fresh(order.pk).status == S.PAYMENT_PENDING


@pytest.mark.django_db
def test_a_timestamp_too_far_in_the_future_is_rejected(client):
    """Stripe's SDK checks only the past: a delivery signed for later would be replayable
    until then."""
    order, _ = _pending_order()
    response = post_event(client, _succeeded_event(order), timestamp=int(time.time()) + 301)
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert fresh(order.pk).status == S.PAYMENT_PENDING


@pytest.mark.django_db
def test_a_correctly_signed_body_nested_5000_levels_deep_is_rejected(client):
    body = '{"id": "evt_deep", "type": "payment_intent.succeeded", "data": ' + "[" * 5000
    body += "]" * 5000 + "}"
    response = client.post(
        WEBHOOK_PATH,
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_payload(body, "whsec_test_secret"),
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid signature or payload."}
    assert WebhookEvent.objects.count() == 0


# Exactly once


@pytest.mark.django_db
def test_a_success_event_pays_the_order_and_commits_the_stock(client):
    order, product = _pending_order(quantity=2)
    assert stock(product) == (8, 2)
    event = _succeeded_event(order)

    response = post_event(client, event)

    assert response.status_code == 200
    assert response.json() == {"received": True}
    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (8, 0)
    stored = WebhookEvent.objects.get()
    assert (stored.stripe_event_id, stored.type) == (event["id"], "payment_intent.succeeded")
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.PROCESSED, 1)
    assert stored.processed_at is not None
    payment = Payment.objects.get(order=order)
    assert payment.stripe_payment_intent_id == event["data"]["object"]["id"]
    assert payment.amount_received == order.total == payment.amount


@pytest.mark.django_db
def test_the_same_event_delivered_twice_is_processed_once(client):
    order, product = _pending_order()
    event = _succeeded_event(order)

    first = post_event(client, event)
    second = post_event(client, event)  # a redelivery: same id, fresh signature

    assert (first.status_code, second.status_code) == (200, 200)
    assert WebhookEvent.objects.count() == 1
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.PROCESSED, 1)
    assert audit_count("order.mark_paid", order.pk) == 1
    assert audit_count("inventory.committed") == 1
    assert stock(product) == (8, 0)


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_concurrently_is_processed_once(live_server):
    order, product = _pending_order()
    body, signature = signed(_succeeded_event(order))
    url = f"{live_server.url}{WEBHOOK_PATH}"

    def deliver():
        request = urllib.request.Request(  # noqa: S310 - http to the live server
            url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status

    outcomes = run_concurrently(*[deliver for _ in range(8)])

    assert outcomes == [("ok", 200)] * 8
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.PROCESSED, 1)
    assert audit_count("order.mark_paid", order.pk) == 1
    assert audit_count("inventory.committed") == 1
    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (8, 0)


@pytest.mark.django_db
def test_a_failing_handler_answers_500_records_the_error_and_a_redelivery_processes_once(
    client, monkeypatch
):
    order, product = _pending_order()
    event = _succeeded_event(order)
    original = webhooks.HANDLERS["payment_intent.succeeded"]
    calls = []

    def fails_once(obj, event_type):
        calls.append(obj["id"])
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return original(obj, event_type)

    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", fails_once)

    failed = post_event(client, event)

    assert failed.status_code == 500
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.FAILED, 1)
    assert stored.last_error == "RuntimeError: database hiccup"
    assert "Traceback" in stored.traceback
    assert "database hiccup" in stored.traceback
    assert stored.processed_at is None
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert stock(product) == (8, 2)

    retried = post_event(client, event)
    again = post_event(client, event)

    assert (retried.status_code, again.status_code) == (200, 200)
    assert len(calls) == 2
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.PROCESSED, 2)
    assert (stored.last_error, stored.traceback) == ("", "")
    assert fresh(order.pk).status == S.PAID
    assert audit_count("order.mark_paid", order.pk) == 1
    assert stock(product) == (8, 0)


@pytest.mark.django_db
def test_a_failing_handler_rolls_back_its_partial_work(client, monkeypatch):
    order, product = _pending_order()
    original = webhooks.HANDLERS["payment_intent.succeeded"]

    def pays_then_fails(obj, event_type):
        original(obj, event_type)
        raise RuntimeError("after the fact")

    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", pays_then_fails)

    response = post_event(client, _succeeded_event(order))

    assert response.status_code == 500
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert Payment.objects.count() == 0
    assert audit_count("order.mark_paid", order.pk) == 0
    assert stock(product) == (8, 2)
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.FAILED


@pytest.mark.django_db
def test_unknown_event_types_are_stored_and_acknowledged(client):
    event = make_event("customer.created", {"id": "cus_123", "object": "customer"})
    response = post_event(client, event)
    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert (stored.stripe_event_id, stored.type) == (event["id"], "customer.created")
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.PROCESSED, 1)
    assert stored.payload == json.loads(json.dumps(event))


@pytest.mark.django_db
def test_an_event_for_a_payment_intent_of_no_order_here_is_acknowledged(client):
    obj = {
        "id": "pi_elsewhere",
        "object": "payment_intent",
        "amount": 500,
        "amount_received": 500,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {},
    }
    response = post_event(client, make_event("payment_intent.succeeded", obj))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert Payment.objects.count() == 0
