"""The offline Stripe simulator, driven through the official stripe SDK (no database needed).

Each test gets a fresh simulator on a free port plus a tiny webhook receiver that records what
the simulator POSTs to it.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
import stripe

from payments.simulator import StripeSimulator

SECRET_KEY = "sk_test_simulator"
PUBLISHABLE_KEY = "pk_test_simulator"
WEBHOOK_SECRET = "whsec_simulator_tests"
RETRY_DELAYS = (0.05, 0.05, 0.05)  # tiny, so retry tests stay fast


class WebhookReceiver:
    """A stdlib HTTP endpoint that records deliveries and answers scripted status codes."""

    def __init__(self) -> None:
        self.deliveries: list[dict] = []  # {"body": str, "signature": str, "status": int}
        self.scripted_statuses: list[int] = []  # answered first, then 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with receiver._lock:
                    status = (
                        receiver.scripted_statuses.pop(0) if receiver.scripted_statuses else 200
                    )
                    receiver.deliveries.append(
                        {
                            "body": body,
                            "signature": self.headers["Stripe-Signature"],
                            "status": status,
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/stripe/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def events(self, status: int | None = 200) -> list[dict]:
        """Parsed bodies of the deliveries answered with ``status`` (None: all)."""
        with self._lock:
            return [
                json.loads(d["body"])
                for d in self.deliveries
                if status is None or d["status"] == status
            ]

    def types(self) -> list[str]:
        return [event["type"] for event in self.events()]


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


def make_client(sim: StripeSimulator, api_key: str = SECRET_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": sim.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=10),
    )


@pytest.fixture
def client(sim):
    return make_client(sim)


def raw(sim, method, path, params=None, key=None, headers=None, json_body=None):
    """A plain HTTP call, like a browser page would make; returns (status, headers, body)."""
    data = None
    all_headers = dict(headers or {})
    if key:
        all_headers["Authorization"] = f"Bearer {key}"
    if json_body is not None:
        data = json.dumps(json_body).encode()
        all_headers["Content-Type"] = "application/json"
    elif params is not None:
        data = urlencode(params).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    url = sim.url + path  # always http://127.0.0.1:<port>/...
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            text = response.read().decode()
            return response.status, response.headers, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        text = exc.read().decode()
        return exc.code, exc.headers, json.loads(text) if text else None


def create_pi(client, amount=1000, **extra):
    return client.v1.payment_intents.create(
        {"amount": amount, "currency": "usd", "metadata": {"order_id": "42"}, **extra}
    )


def paid_pi(client, amount=1000):
    pi = create_pi(client, amount)
    return client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_visa"})


# ------------------------------------------------------------------ payments


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


# --------------------------------------------------------------- idempotency


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


# ------------------------------------------------------------------ webhooks


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
