"""End to end over real HTTP: checkout, the official stripe SDK against the simulator, signed
webhooks delivered to the live server, and what the shop makes of them."""

from decimal import Decimal
from unittest import mock

import pytest
import stripe
from django.db import OperationalError

from orders import services as order_services
from orders.checkout import place_order
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderEmail
from orders.selectors import stock_discrepancies
from orders.tests.factories import make_due
from payments import gateway, services
from payments.models import Payment, Refund, WebhookEvent
from payments.tests.helpers import (
    CLOSED_PORT_URL,
    audit_count,
    confirm,
    fresh,
    retrieve,
    sdk,
    settle,
    stock,
    wait_until,
)
from payments.webhooks import process_event
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

S = Order.Status


def checkout(product, quantity=2, user=None):
    order = place_order(user=user or UserFactory(), lines=[(product.pk, quantity)])
    assert order.status == S.PAYMENT_PENDING
    return order, Payment.objects.get(order=order)


def test_happy_path(stripe_sim_live):
    product = ProductFactory(stock=10, price=Decimal("75.00"))
    order, payment = checkout(product, quantity=2)
    assert stock(product) == (8, 2)
    assert payment.amount == order.total == Decimal("150.00")
    pi = retrieve(stripe_sim_live, payment.stripe_payment_intent_id)
    assert (pi["amount"], pi["currency"], pi["metadata"]) == (
        15000,
        "usd",
        {"order_id": str(order.pk)},
    )

    confirmed = confirm(stripe_sim_live, payment.stripe_payment_intent_id)
    assert confirmed["status"] == "succeeded"
    settle(stripe_sim_live)

    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (8, 0)
    payment = Payment.objects.get(pk=payment.pk)
    assert (payment.status, payment.amount_received) == ("succeeded", Decimal("150.00"))
    assert payment.last_error == ""
    assert audit_count("order.mark_paid", order.pk) == 1
    assert audit_count("inventory.committed") == 1
    assert stock_discrepancies() == []
    delivered = {e["type"]: e["delivery"]["status"] for e in stripe_sim_live.event_log()}
    assert delivered["payment_intent.succeeded"] == "delivered"
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == len(
        stripe_sim_live.events
    )


def test_decline_then_retry_within_the_ttl_succeeds(stripe_sim_live):
    product = ProductFactory(stock=5)
    order, payment = checkout(product, quantity=1)

    with pytest.raises(stripe.CardError) as declined:
        confirm(stripe_sim_live, payment.stripe_payment_intent_id, "pm_card_chargeDeclined")
    assert declined.value.code == "card_declined"
    settle(stripe_sim_live)

    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert stock(product) == (4, 1)
    payment = Payment.objects.get(pk=payment.pk)
    assert payment.last_error == "Your card was declined."
    assert payment.status == "requires_payment_method"
    assert audit_count("payment.declined", order.pk) == 1

    confirm(stripe_sim_live, payment.stripe_payment_intent_id, "pm_card_visa")
    settle(stripe_sim_live)

    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (4, 0)
    payment = Payment.objects.get(pk=payment.pk)
    assert (payment.status, payment.last_error) == ("succeeded", "")
    assert audit_count("order.mark_paid", order.pk) == 1


def test_expiry_after_a_decline_releases_stock_and_cancels_the_payment_intent(stripe_sim_live):
    product = ProductFactory(stock=5)
    order, payment = checkout(product, quantity=3)
    with pytest.raises(stripe.CardError):
        confirm(stripe_sim_live, payment.stripe_payment_intent_id, "pm_card_chargeDeclined")
    settle(stripe_sim_live)

    make_due(order)
    assert order_services.expire_due_orders() == 1
    settle(stripe_sim_live)

    assert fresh(order.pk).status == S.EXPIRED
    assert stock(product) == (5, 0)
    pi = retrieve(stripe_sim_live, payment.stripe_payment_intent_id)
    assert pi["status"] == "canceled"
    assert Payment.objects.get(pk=payment.pk).status == "canceled"
    assert audit_count("order.expire", order.pk) == 1
    assert audit_count("order.fail", order.pk) == 0
    assert order_services.expire_due_orders() == 0
    assert stock_discrepancies() == []


def test_a_success_before_the_shop_stored_the_payment_intent_pays_the_order(
    stripe_sim_live, settings
):
    product = ProductFactory(stock=5)
    settings.STRIPE_API_BASE = CLOSED_PORT_URL
    order = place_order(user=UserFactory(), lines=[(product.pk, 2)])
    settings.STRIPE_API_BASE = stripe_sim_live.url
    assert fresh(order.pk).status == S.CREATED
    assert Payment.objects.count() == 0
    # The shop's request reached Stripe but its answer was lost: Stripe has the intent.
    intent = gateway.create_payment_intent(order=order)
    confirm(stripe_sim_live, intent["id"])
    settle(stripe_sim_live)

    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (3, 0)
    assert audit_count("order.start_payment", order.pk) == 1
    assert audit_count("order.mark_paid", order.pk) == 1
    payment = Payment.objects.get(order=order)
    assert payment.stripe_payment_intent_id == intent["id"]
    # The order no longer awaits payment: a late retry of the shop's call makes nothing.
    with pytest.raises(InvalidTransition):
        services.ensure_payment(order=order)
    assert Payment.objects.count() == 1
    assert len(sdk(stripe_sim_live).v1.payment_intents.list().data) == 1
    assert fresh(order.pk).status == S.PAID


def test_a_held_success_released_after_checkout_pays_once(stripe_sim_live):
    product = ProductFactory(stock=5)
    stripe_sim_live.hold_events()
    order, payment = checkout(product, quantity=1)
    confirm(stripe_sim_live, payment.stripe_payment_intent_id)
    assert fresh(order.pk).status == S.PAYMENT_PENDING

    released = stripe_sim_live.release_events(order="reverse")
    settle(stripe_sim_live)

    assert len(released) == 3  # payment_intent.created, charge.succeeded, payment_intent.succeeded
    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (4, 0)
    assert audit_count("order.mark_paid", order.pk) == 1


def test_a_stale_decline_delivered_after_the_success_does_not_undo_the_payment(stripe_sim_live):
    product = ProductFactory(stock=5)
    stripe_sim_live.hold_events()
    order, payment = checkout(product, quantity=1)
    with pytest.raises(stripe.CardError):
        confirm(stripe_sim_live, payment.stripe_payment_intent_id, "pm_card_chargeDeclined")
    confirm(stripe_sim_live, payment.stripe_payment_intent_id, "pm_card_visa")

    stripe_sim_live.release_events(order=["payment_intent.succeeded"])
    settle(stripe_sim_live)

    assert fresh(order.pk).status == S.PAID
    payment = Payment.objects.get(pk=payment.pk)
    assert (payment.status, payment.amount_received) == ("succeeded", Decimal("10.00"))
    assert payment.last_error == ""
    # The declined attempt still happened: the order's history says so, and no
    # "declined" email follows the receipt.
    assert audit_count("payment.declined", order.pk) == 1
    kinds = set(OrderEmail.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds == {"placed", "paid"}


def _pay_late(sim, product, quantity):
    """A payment the shop hears of only after the order closed.

    Expiry and cancel settle the PaymentIntents the shop stored, so this needs one it
    never stored: the database failed right after Stripe made it (an orphan). Nothing
    then stopped the order expiring, and a payment on that PaymentIntent succeeds
    while its webhooks are held. Returns the order and the PaymentIntent id.
    """
    lost = OperationalError("the connection dropped")
    with (
        mock.patch("payments.services._store_payment_intent", side_effect=lost),
        pytest.raises(OperationalError),
    ):
        place_order(user=UserFactory(), lines=[(product.pk, quantity)])
    order = Order.objects.get()
    (intent,) = gateway.list_payment_intents(created_since=0)
    assert intent["metadata"] == {"order_id": str(order.pk)}
    sim.hold_events()
    confirm(sim, intent["id"])
    make_due(order)
    assert order_services.expire_due_orders() == 1
    assert fresh(order.pk).status == S.EXPIRED
    return order, intent["id"]


def test_success_after_expiry_with_stock_left_recovers_the_order(stripe_sim_live):
    product = ProductFactory(stock=5)
    order, intent_id = _pay_late(stripe_sim_live, product, quantity=2)
    assert stock(product) == (5, 0)

    stripe_sim_live.release_events()
    settle(stripe_sim_live)

    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (3, 0)
    assert audit_count("order.recover_late_payment", order.pk) == 1
    assert Refund.objects.count() == 0
    assert retrieve(stripe_sim_live, intent_id)["status"] == "succeeded"
    assert stock_discrepancies() == []


def test_success_after_expiry_without_stock_refunds_in_full(stripe_sim_live):
    product = ProductFactory(stock=3)
    order, intent_id = _pay_late(stripe_sim_live, product, quantity=2)
    rival, _ = checkout(product, quantity=3)  # takes the released stock (hold still active)
    assert stock(product) == (0, 3)

    stripe_sim_live.release_events()
    settle(stripe_sim_live)
    payment = Payment.objects.get(order=order)

    assert fresh(order.pk).status == S.EXPIRED
    assert fresh(rival.pk).status == S.PAYMENT_PENDING
    assert stock(product) == (0, 3)
    refund = wait_until(lambda: Refund.objects.filter(stripe_refund_id__isnull=False).first())
    assert Refund.objects.count() == 1
    assert refund.payment_id == payment.pk
    assert (refund.status, refund.amount) == (Refund.Status.SUCCEEDED, order.total)
    assert refund.created_by is None
    assert refund.reason == "Paid after the order closed; the stock was gone."
    at_stripe = sdk(stripe_sim_live).v1.refunds.retrieve(refund.stripe_refund_id).to_dict()
    assert (at_stripe["amount"], at_stripe["status"]) == (2000, "succeeded")
    assert at_stripe["payment_intent"] == intent_id
    payment = Payment.objects.get(pk=payment.pk)
    assert payment.amount_received == payment.amount_refunded == order.total
    assert audit_count("payment.refund_requested", order.pk) == 1
    assert audit_count("order.recover_late_payment", order.pk) == 0
    assert stock_discrepancies() == []


def test_replaying_a_refunded_late_success_does_not_resurrect_the_order(stripe_sim_live):
    product = ProductFactory(stock=3)
    order, _ = _pay_late(stripe_sim_live, product, quantity=2)
    rival, _ = checkout(product, quantity=3)
    stripe_sim_live.release_events()
    settle(stripe_sim_live)
    wait_until(lambda: Refund.objects.filter(stripe_refund_id__isnull=False).exists())
    order_services.cancel_order(order=rival, actor=rival.user)  # the stock is back
    settle(stripe_sim_live)
    event = WebhookEvent.objects.get(type="payment_intent.succeeded")

    process_event(event=event, force=True)

    assert fresh(order.pk).status == S.EXPIRED
    assert stock(product) == (3, 0)


def test_payment_intent_canceled_by_stripe_fails_the_order(stripe_sim_live):
    product = ProductFactory(stock=5)
    order, payment = checkout(product, quantity=2)

    sdk(stripe_sim_live).v1.payment_intents.cancel(
        payment.stripe_payment_intent_id, params={"cancellation_reason": "fraudulent"}
    )
    settle(stripe_sim_live)

    assert fresh(order.pk).status == S.FAILED
    assert stock(product) == (5, 0)
    assert Payment.objects.get(pk=payment.pk).status == "canceled"
    assert audit_count("order.fail", order.pk) == 1
    assert audit_count("inventory.released") == 1
    assert stock_discrepancies() == []


def test_a_dispute_flags_the_order_for_review(stripe_sim_live):
    product = ProductFactory(stock=5)
    order, payment = checkout(product, quantity=1)
    confirm(stripe_sim_live, payment.stripe_payment_intent_id)
    settle(stripe_sim_live)
    assert fresh(order.pk).needs_review is False

    dispute = stripe_sim_live.dispute(payment.stripe_payment_intent_id)
    settle(stripe_sim_live)

    order = fresh(order.pk)
    assert order.status == S.PAID
    assert order.needs_review is True
    assert order.review_reason == f"Dispute {dispute['id']} (fraudulent)."
    assert audit_count("order.flagged", order.pk) == 1
