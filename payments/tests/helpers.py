"""Shared helpers for the payments tests: Stripe SDK clients, signed events, polling, orders
with their payment."""

import json
import time
import uuid
from collections.abc import Callable
from decimal import Decimal

import stripe
from django.conf import settings

from audit.models import AuditEvent
from core.tests.helpers import committed
from orders.models import Order
from payments.models import Payment
from payments.simulator import sign_payload
from shop.models import Inventory

WEBHOOK_PATH = "/webhooks/stripe/"
CLOSED_PORT_URL = "http://127.0.0.1:9"


def wait_until(predicate: Callable[[], object], *, timeout: float = 10, interval: float = 0.02):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


def sdk(sim) -> stripe.StripeClient:
    """The official SDK pointed at the simulator (what a customer's browser would do)."""
    return stripe.StripeClient(
        "sk_test_shop",
        base_addresses={"api": sim.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=10),
    )


def confirm(sim, payment_intent_id: str, payment_method: str = "pm_card_visa") -> dict:
    """Confirm a PaymentIntent at the simulator; raises stripe.CardError on a decline."""
    return (
        sdk(sim)
        .v1.payment_intents.confirm(payment_intent_id, params={"payment_method": payment_method})
        .to_dict()
    )


def retrieve(sim, payment_intent_id: str) -> dict:
    return sdk(sim).v1.payment_intents.retrieve(payment_intent_id).to_dict()


def settle(sim, timeout: float = 10) -> None:
    """Wait until the simulator has delivered every queued webhook."""
    assert sim.wait_for_deliveries(timeout=timeout), "webhook deliveries did not finish"


def fresh(pk) -> Order:
    """A fresh copy (never refresh_from_db(): not thread-safe with django-fsm)."""
    return Order.objects.get(pk=pk)


def payment_of(order_or_pk) -> Payment:
    pk = getattr(order_or_pk, "pk", order_or_pk)
    return Payment.objects.get(order_id=pk)


def stock(product) -> tuple[int, int]:
    inv = Inventory.objects.get(product_id=getattr(product, "pk", product))
    return inv.available, inv.reserved


def audit_count(action: str, order_pk=None) -> int:
    qs = AuditEvent.objects.filter(action=action)
    if order_pk is not None:
        qs = qs.filter(entity_type="order", entity_id=str(order_pk))
    return qs.count()


def minor(amount: Decimal) -> int:
    return int(amount * 100)


def with_payment(order: Order, *, received=True, pi="pi_test_1") -> Payment:
    """A Payment row for an order as if Stripe had answered (no Stripe involved)."""
    return Payment.objects.create(
        order=order,
        stripe_payment_intent_id=pi,
        client_secret=f"{pi}_secret_abc",
        amount=order.total,
        currency=order.currency,
        status=Payment.Status.SUCCEEDED if received else Payment.Status.REQUIRES_PAYMENT_METHOD,
        amount_received=order.total if received else Decimal("0"),
    )


def intent_dict(order: Order, *, status="succeeded", amount_received=None, pi_id=None) -> dict:
    """A PaymentIntent as Stripe would describe it, for an order (no Stripe involved)."""
    amount = minor(order.total)
    received = amount if amount_received is None else amount_received
    return {
        "id": pi_id or f"pi_test_{uuid.uuid4().hex[:20]}",
        "object": "payment_intent",
        "amount": amount,
        "amount_received": received if status == "succeeded" else 0,
        "currency": order.currency,
        "status": status,
        "metadata": {"order_id": str(order.pk)},
        "last_payment_error": None,
        "cancellation_reason": None,
        "client_secret": "pi_secret_test",
    }


def make_event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "type": event_type,
    }


def signed(event: dict, *, secret: str | None = None, timestamp: int | None = None):
    """(body, Stripe-Signature header) for an event, signed as Stripe signs it."""
    body = json.dumps(event)
    return body, sign_payload(body, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)


def post_event(client, event: dict, **sign_kwargs):
    """POST a signed event to the webhook view through Django's test client."""
    body, signature = signed(event, **sign_kwargs)
    return client.post(
        WEBHOOK_PATH, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def checkout(product, quantity=1, user=None) -> Order:
    """Place an order and create its PaymentIntent (the after-commit step) at once."""
    from orders.checkout import place_order
    from shop.tests.factories import UserFactory

    with committed():
        placed = place_order(user=user or UserFactory(), lines=[(product.pk, quantity)])
    placed = fresh(placed.pk)
    assert placed.status == Order.Status.PAYMENT_PENDING
    return placed


def paid_order(sim, product, quantity=1, user=None) -> Order:
    """Checkout, pay with a visa at the simulator and apply the result (no webhook needed)."""
    from payments import services

    placed = checkout(product, quantity, user)
    intent = confirm(sim, payment_of(placed).stripe_payment_intent_id)
    with committed():
        services.apply_payment_intent(payment_intent=intent)
    paid = fresh(placed.pk)
    assert paid.status == Order.Status.PAID
    return paid


def sim_refunds(sim, payment_intent_id: str) -> list[dict]:
    page = sdk(sim).v1.refunds.list(params={"payment_intent": payment_intent_id, "limit": 100})
    return [r.to_dict() for r in page.data]
