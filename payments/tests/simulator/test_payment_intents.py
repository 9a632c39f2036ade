"""The simulator's PaymentIntents and refunds through the SDK and as a browser page calls them:
cards that pay or decline, publishable-key rules, cancel, update, refunds, unknown ids."""

from __future__ import annotations

import pytest
import stripe

from payments.tests.simulator.helpers import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    create_pi,
    make_client,
    paid_pi,
    raw,
)


def test_create_retrieve_and_confirm_with_visa(sim, client):
    pi = create_pi(
        client, 2500, description="Order 42", automatic_payment_methods={"enabled": True}
    )

    assert pi.id.startswith("pi_")
    assert pi.object == "payment_intent"
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(f"{pi.id}_secret_")
    assert (pi.amount, pi.amount_received, pi.currency) == (2500, 0, "usd")
    assert pi.metadata.to_dict() == {"order_id": "42"}
    assert pi.automatic_payment_methods.enabled is True
    assert pi.livemode is False
    assert client.v1.payment_intents.retrieve(pi.id).to_dict() == pi.to_dict()

    confirmed = client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_visa"})

    assert confirmed.status == "succeeded"
    assert confirmed.amount_received == 2500
    assert confirmed.last_payment_error is None
    charge = client.v1.charges.retrieve(confirmed.latest_charge)
    assert charge.id.startswith("ch_")
    assert (charge.status, charge.amount_captured, charge.payment_intent) == (
        "succeeded",
        2500,
        pi.id,
    )
    assert charge.metadata.to_dict() == {"order_id": "42"}
    assert [e["type"] for e in sim.events] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_declined_card_then_retry_with_good_card(sim, client):
    pi = create_pi(client)

    with pytest.raises(stripe.CardError) as excinfo:
        client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_chargeDeclined"})

    error = excinfo.value
    assert error.http_status == 402
    assert error.code == "card_declined"
    assert error.error.decline_code == "generic_decline"
    assert error.user_message == "Your card was declined."
    assert error.error.payment_intent.id == pi.id
    assert error.error.payment_intent.status == "requires_payment_method"
    failed = client.v1.payment_intents.retrieve(pi.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.decline_code == "generic_decline"

    retried = client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_visa"})

    assert retried.status == "succeeded"
    assert retried.last_payment_error is None
    assert [e["type"] for e in sim.events] == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_insufficient_funds_decline(client):
    pi = create_pi(client)

    with pytest.raises(stripe.CardError) as excinfo:
        client.v1.payment_intents.confirm(
            pi.id, {"payment_method": "pm_card_chargeDeclinedInsufficientFunds"}
        )

    assert excinfo.value.code == "card_declined"
    assert excinfo.value.error.decline_code == "insufficient_funds"
    assert excinfo.value.user_message == "Your card has insufficient funds."
    assert client.v1.payment_intents.retrieve(pi.id).amount_received == 0


def test_create_with_confirm_true_charges_immediately(client):
    pi = create_pi(client, confirm=True, payment_method="pm_card_visa")

    assert pi.status == "succeeded"
    assert pi.amount_received == 1000


def test_browser_confirms_with_publishable_key_and_card_number(sim, client):
    pi = create_pi(client, 1500)
    path = f"/v1/payment_intents/{pi.id}/confirm"

    status, headers, _ = raw(
        sim,
        "OPTIONS",
        path,
        headers={"Origin": "http://shop.test", "Access-Control-Request-Method": "POST"},
    )
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in headers["Access-Control-Allow-Headers"]

    card = {
        "client_secret": pi.client_secret,
        "payment_method_data[type]": "card",
        "payment_method_data[card][number]": "4242 4242 4242 4242",
        "payment_method_data[card][exp_month]": "12",
        "payment_method_data[card][exp_year]": "2030",
        "payment_method_data[card][cvc]": "123",
    }
    status, headers, body = raw(sim, "POST", path, card, key=PUBLISHABLE_KEY)

    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert body["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(pi.id).amount_received == 1500
    status, _, body = raw(
        sim, "GET", f"/v1/payment_intents/{pi.id}?client_secret={pi.client_secret}",
        key=PUBLISHABLE_KEY,
    )  # fmt: skip
    assert (status, body["status"]) == (200, "succeeded")


def test_publishable_key_needs_matching_client_secret(sim, client):
    pi = create_pi(client)
    path = f"/v1/payment_intents/{pi.id}/confirm"
    card = {"payment_method_data[type]": "card", "payment_method_data[card][number]": "4242"}

    wrong = raw(sim, "POST", path, {**card, "client_secret": "pi_x_secret_y"}, PUBLISHABLE_KEY)
    missing = raw(sim, "POST", path, card, key=PUBLISHABLE_KEY)
    no_key = raw(sim, "POST", path, {**card, "client_secret": pi.client_secret})

    assert wrong[0] == 400
    assert wrong[2]["error"]["param"] == "client_secret"
    assert missing[0] == 400
    assert missing[2]["error"]["code"] == "parameter_missing"
    assert no_key[0] == 401
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"
    assert [e["type"] for e in sim.events] == ["payment_intent.created"]


def test_publishable_key_cannot_use_secret_endpoints(sim):
    publishable = make_client(sim, PUBLISHABLE_KEY)

    with pytest.raises(stripe.AuthenticationError):
        publishable.v1.payment_intents.create({"amount": 100, "currency": "usd"})
    with pytest.raises(stripe.AuthenticationError):
        make_client(sim, "sk_test_wrong").v1.payment_intents.list()


def test_card_numbers_decline_or_are_rejected(sim, client):
    pi = create_pi(client)
    path = f"/v1/payment_intents/{pi.id}/confirm"

    def confirm(number):
        params = {
            "client_secret": pi.client_secret,
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": number,
        }
        return raw(sim, "POST", path, params, key=PUBLISHABLE_KEY)

    declined = confirm("4000000000009995")
    bogus = confirm("1234123412341234")

    assert declined[0] == 402
    assert declined[2]["error"]["decline_code"] == "insufficient_funds"
    assert declined[2]["error"]["payment_intent"]["status"] == "requires_payment_method"
    assert bogus[0] == 402
    assert bogus[2]["error"]["code"] == "incorrect_number"


def test_cancel_and_invalid_transitions(sim, client):
    pi = create_pi(client)

    canceled = client.v1.payment_intents.cancel(
        pi.id, {"cancellation_reason": "requested_by_customer"}
    )

    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"
    assert canceled.canceled_at is not None
    assert sim.events[-1]["type"] == "payment_intent.canceled"
    with pytest.raises(stripe.InvalidRequestError) as confirm_error:
        client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_visa"})
    assert confirm_error.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as cancel_error:
        client.v1.payment_intents.cancel(paid_pi(client).id)
    assert cancel_error.value.code == "payment_intent_unexpected_state"


def test_update_metadata_and_amount(client):
    pi = create_pi(client)

    updated = client.v1.payment_intents.update(
        pi.id, {"amount": 1200, "metadata": {"order_id": "", "cart": "c1"}}
    )

    assert updated.amount == 1200
    assert updated.metadata.to_dict() == {"cart": "c1"}
    paid = client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.payment_intents.update(paid.id, {"amount": 5})
    assert excinfo.value.code == "payment_intent_unexpected_state"


def test_partial_then_full_refund_and_over_refund(sim, client):
    pi = paid_pi(client, 1000)

    partial = client.v1.refunds.create({"payment_intent": pi.id, "amount": 300})

    assert partial.id.startswith("re_")
    assert (partial.amount, partial.status, partial.charge) == (300, "succeeded", pi.latest_charge)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (300, False)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create({"payment_intent": pi.id, "amount": 701})
    assert too_much.value.code == "amount_too_large"

    rest = client.v1.refunds.create({"payment_intent": pi.id, "reason": "requested_by_customer"})

    assert rest.amount == 700
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    with pytest.raises(stripe.InvalidRequestError) as nothing_left:
        client.v1.refunds.create({"payment_intent": pi.id, "amount": 1})
    assert nothing_left.value.code == "charge_already_refunded"
    listed = client.v1.refunds.list({"payment_intent": pi.id})
    assert [r.id for r in listed.data] == [rest.id, partial.id]  # newest first, like Stripe
    assert client.v1.refunds.retrieve(partial.id).amount == 300
    refund_events = [e for e in sim.events if e["type"] in ("refund.created", "charge.refunded")]
    assert [e["type"] for e in refund_events] == ["refund.created", "charge.refunded"] * 2
    assert refund_events[-1]["data"]["object"]["refunded"] is True


def test_refund_requires_a_succeeded_payment(client):
    pi = create_pi(client)

    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.refunds.create({"payment_intent": pi.id})

    assert excinfo.value.code == "payment_intent_unexpected_state"


def test_unknown_ids_routes_and_params(sim, client):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.retrieve("pi_doesnotexist")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as unknown_param:
        client.v1.payment_intents.create({"amount": 100, "currency": "usd", "amont": 1})
    assert unknown_param.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as no_amount:
        client.v1.payment_intents.create({"currency": "usd"})
    assert (no_amount.value.code, no_amount.value.param) == ("parameter_missing", "amount")
    status, _, body = raw(sim, "GET", "/v1/nothing_here", key=SECRET_KEY)
    assert status == 404
    assert body["error"]["type"] == "invalid_request_error"


def test_a_processing_payment_cannot_be_cancelled_and_settles_either_way(sim, client):
    paying = create_pi(client, 1500)
    processing = client.v1.payment_intents.confirm(
        paying.id, {"payment_method": "pm_card_processing"}
    )

    assert (processing.status, processing.amount_received) == ("processing", 0)
    assert client.v1.charges.retrieve(processing.latest_charge).status == "pending"
    assert sim.events[-1]["type"] == "payment_intent.processing"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.cancel(paying.id)
    assert refused.value.code == "payment_intent_unexpected_state"

    settled = sim.settle_processing(paying.id)
    assert (settled["status"], settled["amount_received"]) == ("succeeded", 1500)
    assert [e["type"] for e in sim.events[-2:]] == ["charge.succeeded", "payment_intent.succeeded"]

    failing = create_pi(client, 1500)
    client.v1.payment_intents.confirm(failing.id, {"payment_method": "pm_card_processing"})
    path = f"/_simulator/payment_intents/{failing.id}/settle"
    status, _, body = raw(sim, "POST", path, params={"outcome": "failed"})
    assert status == 200
    assert body["status"] == "requires_payment_method"
    assert body["last_payment_error"]["code"] == "card_declined"
    assert sim.events[-1]["type"] == "payment_intent.payment_failed"
