"""The harness of the simulator tests: keys, a webhook receiver, SDK clients, plain HTTP calls
and PaymentIntents made through the SDK."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

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


def make_client(sim: StripeSimulator, api_key: str = SECRET_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": sim.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=10),
    )


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


class ConcurrencyProbe:
    """A webhook endpoint that measures how deliveries overlap.

    The first `gate` requests wait for one another (a barrier): they all answer only once
    `gate` of them are in flight at the same time, so a dispatcher that sends one at a
    time breaks the barrier (after `gate_timeout` seconds) instead of passing it. Every
    request records its PaymentIntent and event type and how many requests, in all and
    for its PaymentIntent, were in flight as it arrived.
    """

    def __init__(self, gate: int, gate_timeout: float = 10.0) -> None:
        self.arrivals: list[tuple[str, str]] = []  # (payment intent id, event type)
        self.max_in_flight = 0
        self.max_in_flight_per_intent = 0
        self.gate_broken = False
        self._gate = gate
        self._barrier = threading.Barrier(gate, timeout=gate_timeout)
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        probe = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                obj = event["data"]["object"]
                intent = obj["id"] if obj["object"] == "payment_intent" else obj["payment_intent"]
                status = probe._handle(intent, event["type"])
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/stripe/"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def _handle(self, intent: str, event_type: str) -> int:
        with self._lock:
            self.arrivals.append((intent, event_type))
            gated = len(self.arrivals) <= self._gate
            self._in_flight[intent] = self._in_flight.get(intent, 0) + 1
            self.max_in_flight_per_intent = max(
                self.max_in_flight_per_intent, self._in_flight[intent]
            )
            self.max_in_flight = max(self.max_in_flight, sum(self._in_flight.values()))
        try:
            if gated:
                self._barrier.wait()
            return 200
        except threading.BrokenBarrierError:
            self.gate_broken = True
            return 200  # answer anyway: the test fails on the counts, not on retries
        finally:
            with self._lock:
                self._in_flight[intent] -= 1

    def types_by_intent(self) -> dict[str, list[str]]:
        with self._lock:
            result: dict[str, list[str]] = {}
            for intent, event_type in self.arrivals:
                result.setdefault(intent, []).append(event_type)
            return result

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
