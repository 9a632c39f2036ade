"""The simulator's Idempotency-Key handling: replays, concurrent identical requests, a key
reused with other parameters, and a declined confirm replayed rather than retried."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from payments.tests.simulator.helpers import (
    create_pi,
)


def test_idempotent_replay_returns_same_payment_intent(sim, client):
    options = {"idempotency_key": "order-42-attempt-1"}

    first = client.v1.payment_intents.create({"amount": 500, "currency": "usd"}, options)
    second = client.v1.payment_intents.create({"amount": 500, "currency": "usd"}, options)

    assert second.id == first.id
    assert second.last_response.headers.get("Idempotent-Replayed") == "true"
    assert first.last_response.headers.get("Idempotent-Replayed") is None
    created = [e for e in sim.events if e["type"] == "payment_intent.created"]
    assert len(created) == 1
    assert created[0]["request"]["idempotency_key"] == "order-42-attempt-1"


def test_concurrent_identical_creates_make_one_payment_intent(sim, client, monkeypatch):
    original = sim.state.create_payment_intent

    def slow_create(params, ctx):
        time.sleep(0.2)  # keep the first request in flight while the others arrive
        return original(params, ctx)

    monkeypatch.setattr(sim.state, "create_payment_intent", slow_create)

    def create(_):
        return client.v1.payment_intents.create(
            {"amount": 700, "currency": "usd"}, {"idempotency_key": "same-key"}
        ).id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(create, range(16)))

    assert len(ids) == 1
    listed = client.v1.payment_intents.list()
    assert [pi.id for pi in listed.data] == list(ids)
    assert [e["type"] for e in sim.events] == ["payment_intent.created"]


def test_idempotency_key_reused_with_other_params_is_rejected(client):
    client.v1.payment_intents.create({"amount": 500, "currency": "usd"}, {"idempotency_key": "k"})

    with pytest.raises(stripe.IdempotencyError) as excinfo:
        client.v1.payment_intents.create(
            {"amount": 501, "currency": "usd"}, {"idempotency_key": "k"}
        )

    assert excinfo.value.http_status == 400
    assert excinfo.value.error.type == "idempotency_error"


def test_declined_confirm_is_replayed_not_retried(sim, client):
    pi = create_pi(client)
    options = {"idempotency_key": "confirm-1"}
    params = {"payment_method": "pm_card_chargeDeclined"}

    for _ in range(2):
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.confirm(pi.id, params, options)

    assert [e["type"] for e in sim.events].count("payment_intent.payment_failed") == 1
