"""The simulator's webhooks: signed like Stripe's, retried, given up, disabled and
redelivered, disputes, held and released out of order, and reset."""

from __future__ import annotations

import pytest
import stripe

from payments.tests.simulator.helpers import (
    RETRY_DELAYS,
    WEBHOOK_SECRET,
    create_pi,
    paid_pi,
    raw,
)


def test_webhooks_are_signed_like_stripe(sim, client, receiver):
    paid_pi(client)

    assert sim.wait_for_deliveries(timeout=5)
    assert receiver.types() == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    for delivery, recorded in zip(receiver.deliveries, sim.events, strict=True):
        event = stripe.Webhook.construct_event(
            delivery["body"], delivery["signature"], WEBHOOK_SECRET
        )
        assert event.id == recorded["id"]
        assert event.api_version == stripe.api_version
        assert event.data.object.object in ("payment_intent", "charge")
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(delivery["body"], delivery["signature"], "whsec_nope")
    assert client.v1.events.retrieve(sim.events[-1]["id"]).type == "payment_intent.succeeded"


def test_failed_delivery_is_retried(sim, client, receiver):
    receiver.scripted_statuses = [500, 503]

    pi = create_pi(client)

    assert sim.wait_for_deliveries(timeout=5)
    assert [d["status"] for d in receiver.deliveries] == [500, 503, 200]
    assert {e["id"] for e in receiver.events(status=None)} == {sim.events[0]["id"]}
    log = sim.event_log()[0]
    assert log["data"]["object"]["id"] == pi.id
    assert log["delivery"]["status"] == "delivered"
    assert [a["status_code"] for a in log["delivery"]["attempts"]] == [500, 503, 200]


def test_delivery_gives_up_after_the_retry_delays(sim, client, receiver):
    receiver.scripted_statuses = [500] * (len(RETRY_DELAYS) + 1)

    create_pi(client)

    assert sim.wait_for_deliveries(timeout=5)
    delivery = sim.event_log()[0]["delivery"]
    assert delivery["status"] == "failed"
    assert len(delivery["attempts"]) == len(RETRY_DELAYS) + 1


def test_disabled_webhooks_are_lost_until_redelivered(sim, client, receiver):
    status, _, body = raw(sim, "POST", "/_simulator/webhooks", json_body={"enabled": "false"})
    assert (status, body["enabled"]) == (200, False)

    pi = create_pi(client)
    sim.wait_for_deliveries(timeout=5)

    assert receiver.deliveries == []
    event_id = sim.events[0]["id"]
    status, _, log = raw(sim, "GET", "/_simulator/events")
    assert log[0]["delivery"]["status"] == "disabled"

    status, _, _ = raw(sim, "POST", f"/_simulator/events/{event_id}/redeliver", params={})
    assert status == 200
    assert sim.wait_for_deliveries(timeout=5)
    (delivered,) = receiver.events()
    assert delivered["id"] == event_id
    assert delivered["data"]["object"]["id"] == pi.id

    sim.set_webhooks_enabled(True)
    sim.redeliver(event_id)
    create_pi(client)
    assert sim.wait_for_deliveries(timeout=5)
    assert receiver.types() == ["payment_intent.created"] * 3


def test_dispute_emits_charge_dispute_created(sim, client, receiver):
    pi = paid_pi(client, 1800)

    status, _, dispute = raw(sim, "POST", f"/_simulator/payment_intents/{pi.id}/dispute", {})

    assert status == 200
    assert sim.wait_for_deliveries(timeout=5)
    event = receiver.events()[-1]
    assert event["type"] == "charge.dispute.created"
    obj = event["data"]["object"]
    assert obj["id"] == dispute["id"]
    assert obj["id"].startswith("dp_")
    assert (obj["amount"], obj["charge"], obj["payment_intent"]) == (1800, pi.latest_charge, pi.id)
    assert (obj["reason"], obj["status"]) == ("fraudulent", "needs_response")


def test_held_events_can_be_released_out_of_order(sim, client, receiver):
    sim.hold_events()
    paid_pi(client)
    assert sim.wait_for_deliveries(timeout=5)
    assert receiver.deliveries == []

    sim.release_events(order=["payment_intent.succeeded"])

    assert sim.wait_for_deliveries(timeout=5)
    assert receiver.types() == [
        "payment_intent.succeeded",
        "payment_intent.created",
        "charge.succeeded",
    ]


def test_reset_forgets_everything(sim, client):
    pi = create_pi(client)

    status, _, _ = raw(sim, "POST", "/_simulator/reset", {})

    assert status == 200
    assert sim.events == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve(pi.id)
