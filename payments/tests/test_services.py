"""payments.services against the simulator, without webhooks: applying a PaymentIntent's
state (a success before the order awaits payment, amount or currency mismatches) and
starting the payment (Stripe down at checkout, replayed checkouts, no lookups before the
call to Stripe)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.checkout import place_order
from orders.models import Order
from orders.tests.factories import make_due
from payments import services
from payments.models import Payment
from payments.tests.helpers import (
    CLOSED_PORT_URL,
    audit_count,
    fresh,
    intent_dict,
    sdk,
    stock,
)
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

S = Order.Status


def checkout(product, quantity=2, user=None):
    order = place_order(user=user or UserFactory(), lines=[(product.pk, quantity)])
    assert order.status == S.PAYMENT_PENDING
    return order, Payment.objects.get(order=order)


def test_apply_success_while_the_order_is_still_created(stripe_sim, settings):
    product = ProductFactory(stock=5)
    settings.STRIPE_API_BASE = CLOSED_PORT_URL
    order = place_order(user=UserFactory(), lines=[(product.pk, 1)])
    assert fresh(order.pk).status == S.CREATED

    services.apply_payment_intent(payment_intent=intent_dict(order, pi_id="pi_early"))

    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (4, 0)
    payment = Payment.objects.get(order=order)
    assert (payment.stripe_payment_intent_id, payment.amount_received) == (
        "pi_early",
        Decimal("10.00"),
    )
    # Applying the same state again changes nothing.
    services.apply_payment_intent(payment_intent=intent_dict(order, pi_id="pi_early"))
    assert audit_count("order.mark_paid", order.pk) == 1
    assert stock(product) == (4, 0)


def test_amount_mismatch_flags_the_order_and_does_not_pay_it(stripe_sim):
    product = ProductFactory(stock=5)
    order, payment = checkout(product, quantity=1)
    intent = intent_dict(order, pi_id=payment.stripe_payment_intent_id, amount_received=999)

    services.apply_payment_intent(payment_intent=intent)
    services.apply_payment_intent(payment_intent=intent)  # again: flagged once

    order = fresh(order.pk)
    assert order.status == S.PAYMENT_PENDING
    assert order.needs_review is True
    assert order.review_reason == (
        f"PaymentIntent {payment.stripe_payment_intent_id} received 999 USD (minor units); "
        "the order expects 1000 USD."
    )
    assert stock(product) == (4, 1)
    assert audit_count("order.mark_paid", order.pk) == 0
    assert audit_count("order.flagged", order.pk) == 1


def test_currency_mismatch_flags_the_order(stripe_sim):
    product = ProductFactory(stock=5)
    order, payment = checkout(product, quantity=1)
    intent = intent_dict(order, pi_id=payment.stripe_payment_intent_id)
    intent["currency"] = "eur"

    services.apply_payment_intent(payment_intent=intent)

    order = fresh(order.pk)
    assert (order.status, order.needs_review) == (S.PAYMENT_PENDING, True)
    assert "received 1000 EUR" in order.review_reason


def test_stripe_unreachable_at_checkout_then_ensure_payment_makes_one_intent(stripe_sim, settings):
    product = ProductFactory(stock=5)
    settings.STRIPE_API_BASE = CLOSED_PORT_URL
    order = place_order(user=UserFactory(), lines=[(product.pk, 2)])

    assert order.status == S.CREATED
    assert Payment.objects.count() == 0
    assert stock(product) == (3, 2)
    assert stripe_sim.events == []

    settings.STRIPE_API_BASE = stripe_sim.url
    first = services.ensure_payment(order=order)
    second = services.ensure_payment(order=order)

    assert first.pk == second.pk
    assert Payment.objects.count() == 1
    intents = sdk(stripe_sim).v1.payment_intents.list().data
    assert [pi.id for pi in intents] == [first.stripe_payment_intent_id]
    assert [e["type"] for e in stripe_sim.events] == ["payment_intent.created"]
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert audit_count("order.start_payment", order.pk) == 1
    assert stock(product) == (3, 2)


def test_checkout_retried_with_the_same_key_makes_the_intent_once_stripe_is_back(
    stripe_sim, settings
):
    product = ProductFactory(stock=5)
    user = UserFactory()
    settings.STRIPE_API_BASE = CLOSED_PORT_URL
    first = place_order(user=user, lines=[(product.pk, 1)], idempotency_key="k1")
    assert first.status == S.CREATED

    settings.STRIPE_API_BASE = stripe_sim.url
    again = place_order(user=user, lines=[(product.pk, 1)], idempotency_key="k1")

    assert again.pk == first.pk
    assert again.status == S.PAYMENT_PENDING
    assert Payment.objects.count() == 1
    assert len(sdk(stripe_sim).v1.payment_intents.list().data) == 1
    assert stock(product) == (4, 1)


def test_a_replayed_checkout_whose_hold_ran_out_makes_no_intent(stripe_sim, settings):
    product = ProductFactory(stock=5)
    user = UserFactory()
    settings.STRIPE_API_BASE = CLOSED_PORT_URL
    first = place_order(user=user, lines=[(product.pk, 1)], idempotency_key="k1")
    make_due(first)  # the hold ran out; the expiry job has not run yet

    settings.STRIPE_API_BASE = stripe_sim.url
    again = place_order(user=user, lines=[(product.pk, 1)], idempotency_key="k1")

    assert again.pk == first.pk
    assert again.status == S.CREATED
    assert Payment.objects.count() == 0
    assert sdk(stripe_sim).v1.payment_intents.list().data == []


def test_the_payment_step_after_checkout_looks_nothing_up_before_calling_stripe(
    stripe_sim, settings
):
    settings.STRIPE_API_BASE = CLOSED_PORT_URL
    order = place_order(user=UserFactory(), lines=[(ProductFactory(stock=5).pk, 1)])
    settings.STRIPE_API_BASE = stripe_sim.url

    with CaptureQueriesContext(connection) as ctx:
        result = services.start_payment_after_checkout(order=order)

    assert result.status == S.PAYMENT_PENDING
    assert result.payment.stripe_payment_intent_id.startswith("pi_")
    queries = [q["sql"].split(" ")[0] for q in ctx.captured_queries]
    # The order lock comes first: the Stripe call ran before any query. Then the payment
    # (INSERT ... ON CONFLICT DO NOTHING: no look-up before it), the order's status (two
    # columns, not all of them) and the audit row.
    assert queries == ["BEGIN", "SELECT", "INSERT", "UPDATE", "INSERT", "COMMIT"]
    lock, payment, update = (ctx.captured_queries[i]["sql"] for i in (1, 2, 3))
    assert lock.endswith("FOR NO KEY UPDATE")
    assert "ON CONFLICT" in payment
    assert update.startswith('UPDATE "orders_order" SET "status" = ')
    assert update.count(" = ") == 3  # status, updated_at, and the id in WHERE
    assert result is order  # checkout's own copy, moved on


def _placed_without_payment(stripe_sim, settings):
    settings.STRIPE_API_BASE = CLOSED_PORT_URL
    order = place_order(user=UserFactory(), lines=[(ProductFactory(stock=5).pk, 1)])
    settings.STRIPE_API_BASE = stripe_sim.url
    assert order.status == S.CREATED
    return order, services.gateway.create_payment_intent(order=order)


def test_the_payment_step_keeps_a_payment_a_webhook_stored_first(stripe_sim, settings):
    order, intent = _placed_without_payment(stripe_sim, settings)
    services.apply_payment_intent(payment_intent=intent)  # payment_intent.created, say
    stored = Payment.objects.get()

    payment = services._store_payment_intent(order_id=order.pk, intent=intent, placed=order)

    assert payment.pk == stored.pk
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert Payment.objects.count() == 1
    assert audit_count("order.start_payment", order.pk) == 1


def test_the_payment_step_rereads_an_order_that_moved_on(stripe_sim, settings):
    order, intent = _placed_without_payment(stripe_sim, settings)
    stale = Order.objects.get(pk=order.pk)  # `created`, as checkout's copy
    services.apply_payment_intent(payment_intent=intent)
    services.ensure_payment(order=order)  # the order is payment_pending now

    payment = services._store_payment_intent(order_id=order.pk, intent=intent, placed=stale)

    assert payment.order.status == S.PAYMENT_PENDING
    assert payment.order is not stale
    assert Payment.objects.count() == 1
    assert audit_count("order.start_payment", order.pk) == 1
