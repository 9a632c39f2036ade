"""Webhooks go out in parallel (a bounded pool) yet one at a time, in order, per PaymentIntent:
one slow receiver answer no longer holds back every other event (issue 14, item 9)."""

from __future__ import annotations

import pytest

from payments.simulator import StripeSimulator
from payments.tests.simulator.helpers import (
    SECRET_KEY,
    WEBHOOK_SECRET,
    ConcurrencyProbe,
    make_client,
    paid_pi,
)

WORKERS = 8
INTENTS = 16
PER_INTENT = [
    "payment_intent.created",
    "charge.succeeded",
    "payment_intent.succeeded",
    "refund.created",
    "charge.refunded",
]


@pytest.fixture
def probe(request):
    probe = ConcurrencyProbe(gate=WORKERS, gate_timeout=getattr(request, "param", 10.0))
    yield probe
    probe.stop()


def test_deliveries_overlap_up_to_the_pool_size_and_keep_each_intents_order(probe):
    sim = StripeSimulator(
        webhook_url=probe.url,
        webhook_secret=WEBHOOK_SECRET,
        api_key=SECRET_KEY,
        retry_delays=(),
        webhook_workers=WORKERS,
    )
    with sim:
        client = make_client(sim)
        intents = []
        for _ in range(INTENTS):
            intent = paid_pi(client)
            client.v1.refunds.create({"payment_intent": intent.id})
            intents.append(intent.id)

        assert sim.wait_for_deliveries(timeout=30)

    # WORKERS deliveries were in flight at once (the gate opened only then), never more:
    # the serial dispatcher had one, and its first request broke the gate.
    assert probe.gate_broken is False
    assert probe.max_in_flight == WORKERS
    # ... and never two of one PaymentIntent, whose events arrived in creation order.
    assert probe.max_in_flight_per_intent == 1
    assert probe.types_by_intent() == {intent: PER_INTENT for intent in intents}
    assert len(probe.arrivals) == INTENTS * len(PER_INTENT)
    assert {e["delivery"]["status"] for e in sim.event_log()} == {"delivered"}


@pytest.mark.parametrize("probe", [0.2], indirect=True)  # the gate breaks fast here
def test_one_worker_delivers_one_event_at_a_time(probe):
    # The control: the same probe sees no overlap from a pool of one.
    sim = StripeSimulator(
        webhook_url=probe.url,
        webhook_secret=WEBHOOK_SECRET,
        api_key=SECRET_KEY,
        retry_delays=(),
        webhook_workers=1,
    )
    with sim:
        client = make_client(sim)
        for _ in range(3):
            paid_pi(client)
        assert sim.wait_for_deliveries(timeout=30)

    assert probe.max_in_flight == 1
    assert probe.gate_broken is True
