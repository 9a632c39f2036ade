"""Reconciliation (lost webhooks, orphan PaymentIntents, unsent refunds) and the two payments
management commands."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
import stripe
from django.core.management import CommandError, call_command
from django.db import OperationalError

from core.tests.helpers import committed
from orders import services as order_services
from orders.checkout import place_order
from orders.models import Order
from orders.tests.factories import make_due
from payments import gateway, services, webhooks
from payments.models import Payment, Refund, WebhookEvent
from payments.tests.helpers import (
    CLOSED_PORT_URL,
    audit_count,
    checkout,
    confirm,
    fresh,
    intent_dict,
    make_event,
    paid_order,
    payment_of,
    post_event,
    sdk,
    settle,
    sim_refunds,
    stock,
)
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Order.Status
NOW = timedelta(0)


@pytest.mark.django_db(transaction=True)
def test_a_lost_success_webhook_is_applied_by_reconciliation(stripe_sim_live):
    product = ProductFactory(stock=5)
    order = checkout(product, quantity=2)
    settle(stripe_sim_live)
    stripe_sim_live.set_webhooks_enabled(False)
    confirm(stripe_sim_live, payment_of(order).stripe_payment_intent_id)
    settle(stripe_sim_live)

    assert stripe_sim_live.event_log()[-1]["delivery"]["status"] == "disabled"
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert not WebhookEvent.objects.filter(type="payment_intent.succeeded").exists()

    assert services.reconcile_payments(older_than=NOW) == 1

    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (3, 0)
    payment = payment_of(order)
    assert (payment.status, payment.amount_received) == ("succeeded", Decimal("20.00"))
    assert audit_count("order.mark_paid", order.pk) == 1

    assert services.reconcile_payments(older_than=NOW) == 0
    assert audit_count("order.mark_paid", order.pk) == 1
    assert stock(product) == (3, 0)


def test_reconciliation_leaves_young_and_unpaid_payments_alone(stripe_sim):
    product = ProductFactory(stock=5)
    young = checkout(product, quantity=1)
    unpaid = checkout(product, quantity=1)
    confirm(stripe_sim, payment_of(young).stripe_payment_intent_id)

    assert services.reconcile_payments(older_than=timedelta(minutes=10)) == 0
    assert fresh(young.pk).status == S.PAYMENT_PENDING

    assert services.reconcile_payments(older_than=NOW) == 1
    assert fresh(young.pk).status == S.PAID
    assert fresh(unpaid.pk).status == S.PAYMENT_PENDING
    assert stock(product) == (3, 1)


def test_reconciliation_survives_an_unreachable_stripe(stripe_sim, settings):
    product = ProductFactory(stock=5)
    order = checkout(product, quantity=1)
    confirm(stripe_sim, payment_of(order).stripe_payment_intent_id)
    settings.STRIPE_API_BASE = CLOSED_PORT_URL

    assert services.reconcile_payments(older_than=NOW) == 0
    assert fresh(order.pk).status == S.PAYMENT_PENDING

    settings.STRIPE_API_BASE = stripe_sim.url
    assert services.reconcile_payments(older_than=NOW) == 1
    assert fresh(order.pk).status == S.PAID


def test_a_refund_recorded_while_stripe_was_unreachable_is_sent_by_reconciliation(
    stripe_sim, settings
):
    product = ProductFactory(stock=5, price=Decimal("40.00"))
    order = paid_order(stripe_sim, product, quantity=1)
    pi_id = payment_of(order).stripe_payment_intent_id
    settings.STRIPE_API_BASE = CLOSED_PORT_URL
    with committed():
        refund = services.refund_payment(order=order, actor=StaffFactory(), amount=Decimal("15"))
    assert Refund.objects.get(pk=refund.pk).stripe_refund_id is None

    assert services.reconcile_payments(older_than=NOW) == 0  # still unreachable
    assert Refund.objects.get(pk=refund.pk).stripe_refund_id is None

    settings.STRIPE_API_BASE = stripe_sim.url
    assert services.reconcile_payments(older_than=NOW) == 0  # no order changed status

    refund = Refund.objects.get(pk=refund.pk)
    (at_stripe,) = sim_refunds(stripe_sim, pi_id)
    assert refund.stripe_refund_id == at_stripe["id"]
    assert (refund.status, at_stripe["amount"]) == (Refund.Status.SUCCEEDED, 1500)
    assert at_stripe["metadata"]["shop_refund_id"] == str(refund.pk)
    assert payment_of(order).amount_refunded == Decimal("15.00")

    services.reconcile_payments(older_than=NOW)
    assert len(sim_refunds(stripe_sim, pi_id)) == 1


def test_expiry_asks_stripe_first_and_a_lost_success_makes_the_order_paid(stripe_sim):
    product = ProductFactory(stock=5)
    order = checkout(product, quantity=2)
    confirm(stripe_sim, payment_of(order).stripe_payment_intent_id)  # webhook never arrives
    make_due(order)
    with committed():
        assert order_services.expire_due_orders() == 0

    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (3, 0)
    assert audit_count("order.expire", order.pk) == 0
    assert services.reconcile_payments(older_than=NOW) == 0


@pytest.mark.django_db(transaction=True)
def test_a_stale_decline_arriving_after_reconciliation_and_a_refund_is_processed(
    stripe_sim_live,
):
    product = ProductFactory(stock=5, price=Decimal("40.00"))
    order = checkout(product, quantity=1)
    settle(stripe_sim_live)
    stripe_sim_live.dispatcher.retry_delays = (0.05,)  # retrying changes nothing here
    stripe_sim_live.hold_events()  # the webhooks are slow today
    pi_id = payment_of(order).stripe_payment_intent_id
    with pytest.raises(stripe.CardError):
        confirm(stripe_sim_live, pi_id, "pm_card_chargeDeclined")
    confirm(stripe_sim_live, pi_id, "pm_card_visa")
    assert services.reconcile_payments(older_than=NOW) == 1
    services.refund_payment(order=order, actor=StaffFactory(), amount=Decimal("10.00"))

    stripe_sim_live.release_events()
    settle(stripe_sim_live)

    assert WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).count() == 0
    payment = payment_of(order)
    assert (payment.status, payment.amount_received, payment.amount_refunded) == (
        "succeeded",
        Decimal("40.00"),
        Decimal("10.00"),
    )


# Management commands


def test_reconcile_payments_command(stripe_sim):
    product = ProductFactory(stock=5)
    order = checkout(product, quantity=1)
    confirm(stripe_sim, payment_of(order).stripe_payment_intent_id)

    out = StringIO()
    call_command("reconcile_payments", "--older-than", "600", stdout=out)
    assert out.getvalue().strip() == "Reconciled payments; 0 order(s) changed."
    assert fresh(order.pk).status == S.PAYMENT_PENDING

    out = StringIO()
    call_command("reconcile_payments", "--older-than", "0", stdout=out)
    assert out.getvalue().strip() == "Reconciled payments; 1 order(s) changed."
    assert fresh(order.pk).status == S.PAID


def _pending_order():
    from orders.tests.factories import make_order

    product = ProductFactory(stock=5)
    return make_order(lines=[(product.pk, 1)], status=S.PAYMENT_PENDING), product


def _boom(obj, event_type):
    raise RuntimeError("handler down")


def test_replay_failed_events(client, monkeypatch):
    order, product = _pending_order()
    event = make_event("payment_intent.succeeded", intent_dict(order))
    with monkeypatch.context() as patch:
        patch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", _boom)
        assert post_event(client, event).status_code == 500
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.FAILED
    ok = make_event("customer.created", {"id": "cus_1"})
    assert post_event(client, ok).status_code == 200

    out = StringIO()
    call_command("replay_webhook_events", "--failed", stdout=out)

    assert out.getvalue().strip() == "Replayed 1 event(s), 0 failed."
    stored = WebhookEvent.objects.get(stripe_event_id=event["id"])
    assert (stored.status, stored.attempts, stored.last_error) == ("processed", 2, "")
    assert WebhookEvent.objects.get(stripe_event_id=ok["id"]).attempts == 1
    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (4, 0)

    out = StringIO()
    call_command("replay_webhook_events", "--failed", stdout=out)
    assert out.getvalue().strip() == "Replayed 0 event(s), 0 failed."


def test_replay_failed_events_that_fail_again(client, monkeypatch):
    order, _ = _pending_order()
    event = make_event("payment_intent.succeeded", intent_dict(order))
    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", _boom)
    assert post_event(client, event).status_code == 500

    err = StringIO()
    with pytest.raises(CommandError, match=r"1 event\(s\) failed again"):
        call_command("replay_webhook_events", "--failed", stdout=StringIO(), stderr=err)

    assert err.getvalue().strip() == f"{event['id']}: handler down"
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.FAILED, 2)
    assert fresh(order.pk).status == S.PAYMENT_PENDING


def test_replay_named_events_runs_them_again_idempotently(client):
    order, product = _pending_order()
    event = make_event("payment_intent.succeeded", intent_dict(order))
    assert post_event(client, event).status_code == 200

    out = StringIO()
    call_command("replay_webhook_events", "--ids", event["id"], stdout=out)

    assert out.getvalue().strip() == "Replayed 1 event(s), 0 failed."
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.PROCESSED, 2)
    assert audit_count("order.mark_paid", order.pk) == 1
    assert stock(product) == (4, 0)


def test_replay_unknown_ids_is_an_error(client):
    order, _ = _pending_order()
    event = make_event("payment_intent.succeeded", intent_dict(order))
    assert post_event(client, event).status_code == 200

    with pytest.raises(CommandError, match="Unknown event id\\(s\\): evt_missing_1, evt_missing_2"):
        call_command(
            "replay_webhook_events", "--ids", event["id"], "evt_missing_2", "evt_missing_1"
        )

    assert WebhookEvent.objects.get().attempts == 1


def test_replay_needs_a_selection():
    with pytest.raises(CommandError, match="Give --failed, --ids, or both"):
        call_command("replay_webhook_events")


# --- orphans: PaymentIntents Stripe made that the shop never stored ------------------------


def _orphan(product, quantity=1) -> tuple[Order, str]:
    """Checkout whose PaymentIntent is made at Stripe but never stored: the database
    connection drops right after Stripe answered. The order stays `created`."""
    lost = OperationalError("the connection dropped")
    with (
        mock.patch("payments.services._store_payment_intent", side_effect=lost),
        pytest.raises(OperationalError),
    ):
        place_order(user=UserFactory(), lines=[(product.pk, quantity)])
    order = Order.objects.get()
    assert (order.status, Payment.objects.count()) == (S.CREATED, 0)
    (intent,) = gateway.list_payment_intents(created_since=0)
    return order, intent["id"]


@pytest.mark.django_db(transaction=True)
def test_an_orphan_of_an_order_still_held_is_stored_and_the_order_becomes_payable(stripe_sim):
    order, intent_id = _orphan(ProductFactory(stock=5))

    assert services.reconcile_payments(older_than=NOW) == 1

    assert fresh(order.pk).status == S.PAYMENT_PENDING
    payment = payment_of(order)
    assert payment.stripe_payment_intent_id == intent_id
    assert payment.client_secret.startswith(f"{intent_id}_secret_")


@pytest.mark.django_db(transaction=True)
def test_an_orphan_of_an_expired_order_is_cancelled_at_stripe(stripe_sim):
    product = ProductFactory(stock=5)
    order, intent_id = _orphan(product, quantity=2)
    make_due(order)
    assert order_services.expire_due_orders() == 1  # no stored PaymentIntent to settle

    services.reconcile_payments(older_than=NOW)

    at_stripe = sdk(stripe_sim).v1.payment_intents.retrieve(intent_id)
    assert at_stripe.status == "canceled"
    assert fresh(order.pk).status == S.EXPIRED
    assert stock(product) == (5, 0)


@pytest.mark.django_db(transaction=True)
def test_an_orphan_paid_after_its_order_expired_is_recovered_by_reconciliation(stripe_sim):
    product = ProductFactory(stock=5)
    order, intent_id = _orphan(product, quantity=2)
    make_due(order)
    assert order_services.expire_due_orders() == 1
    confirm(stripe_sim, intent_id)  # no webhook is delivered in this test

    assert services.reconcile_payments(older_than=NOW) == 1

    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (3, 0)
    assert audit_count("order.recover_late_payment", order.pk) == 1


@pytest.mark.django_db(transaction=True)
def test_young_orphans_are_left_to_their_checkout(stripe_sim):
    order, _ = _orphan(ProductFactory(stock=5))

    assert services.reconcile_payments(older_than=timedelta(minutes=5)) == 0

    assert fresh(order.pk).status == S.CREATED
    assert not Payment.objects.exists()
