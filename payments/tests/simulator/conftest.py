"""Fixtures of the simulator tests: each test gets a fresh simulator on a free port plus a
tiny webhook receiver that records what the simulator POSTs to it.

`client` here is the official stripe SDK pointed at that simulator (not Django's test client)."""

import pytest

from payments.simulator import StripeSimulator
from payments.tests.simulator.helpers import (
    PUBLISHABLE_KEY,
    RETRY_DELAYS,
    SECRET_KEY,
    WEBHOOK_SECRET,
    WebhookReceiver,
    make_client,
)


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def sim(receiver):
    simulator = StripeSimulator(
        host="127.0.0.1",
        port=0,
        webhook_url=receiver.url,
        webhook_secret=WEBHOOK_SECRET,
        api_key=SECRET_KEY,
        publishable_key=PUBLISHABLE_KEY,
        retry_delays=RETRY_DELAYS,
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim):
    return make_client(sim)
