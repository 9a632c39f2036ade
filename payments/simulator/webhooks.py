"""Webhook signing and background delivery.

Signing is exactly Stripe's scheme, so ``stripe.Webhook.construct_event(payload, header,
secret)`` accepts it::

    Stripe-Signature: t=<unix ts>,v1=<hex HMAC-SHA256(secret, f"{t}.{payload}")>

A bounded pool of worker threads (``workers``, default 8) delivers events. Events of one
PaymentIntent (its own events and those of its charges, refunds and disputes) are attempted
one at a time in creation order; events of different PaymentIntents go out in parallel, so one
slow answer no longer holds every other event back. (Stripe promises no order at all; users
expect this one.) A failed attempt (non-2xx, redirect, timeout or connection error) is
rescheduled after the next entry of ``retry_delays`` instead of blocking later events; once
the delays are used up the event is given up ("failed"). The dispatcher has its own lock and
never touches the simulator state, so the HTTP server keeps answering API calls while
deliveries are slow or failing.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import http.client
import itertools
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Delivery status of an event (see StripeSimulator.event_log()).
PENDING = "pending"  # queued or waiting for a retry
DELIVERED = "delivered"  # last attempt got a 2xx
FAILED = "failed"  # retries exhausted
DISABLED = "disabled"  # created while webhooks were disabled: a "lost" webhook
NO_ENDPOINT = "no_endpoint"  # no webhook_url was configured
HELD = "held"  # parked by hold(); delivered by release()


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Return the ``Stripe-Signature`` header value for ``payload``."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def ordering_key(event: dict[str, Any]) -> str:
    """The PaymentIntent an event belongs to (its events are delivered one at a time, in
    order); the event's object, or the event itself, when it names none."""
    obj = (event.get("data") or {}).get("object") or {}
    if obj.get("object") == "payment_intent":
        return obj["id"]
    return obj.get("payment_intent") or obj.get("id") or event["id"]


@dataclass
class DeliveryRecord:
    event_id: str
    event_type: str
    payload: str  # exact bytes sent (redeliveries resend the same payload)
    status: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    key: str = ""  # ordering_key() of the event
    retry_no: int = 0  # how many retries the queued attempt is (while PENDING)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "attempts": [dict(a) for a in self.attempts]}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Stripe treats a 3xx answer as a failed delivery rather than following it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class WebhookDispatcher:
    """Signed webhook deliveries served by a bounded pool of threads, ordered per
    PaymentIntent (see the module docstring)."""

    def __init__(
        self,
        *,
        secret: str,
        url: str | None = None,
        retry_delays: Sequence[float] = (1, 2, 4, 8, 16),
        timeout: float = 10.0,
        workers: int = 8,
        log: Callable[[str], None] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.secret = secret
        self.url = url
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.workers = workers
        self._enabled = True
        self._log = log or (lambda message: None)
        # Told after every change worth persisting (see persistence.StateFile).
        self._on_change = on_change or (lambda: None)
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, str, int]] = []  # (due, seq, event_id, retry_no)
        self._seq = itertools.count()
        self._records: dict[str, DeliveryRecord] = {}
        self._held: list[str] = []
        self._holding = False
        self._inflight = 0
        # Ordering keys with an attempt in flight, and the due entries of those keys that
        # a worker took off the heap meanwhile (put back, in order, when the attempt ends).
        self._busy: set[str] = set()
        self._blocked: dict[str, list[tuple[float, int, str, int]]] = {}
        self._stopping = False
        self._threads: list[threading.Thread] = []
        # No proxies (the receiver is usually local) and no redirects (see _NoRedirect).
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        with self._cond:
            if self._threads:
                return
            self._stopping = False
            self._threads = [
                threading.Thread(
                    target=self._run, name=f"stripe-simulator-webhooks-{n}", daemon=True
                )
                for n in range(self.workers)
            ]
            for thread in self._threads:
                thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            threads, self._threads = self._threads, []
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def reset(self) -> None:
        """Forget all events and pending deliveries; re-enable delivery."""
        with self._cond:
            self._heap.clear()
            self._records.clear()
            self._held.clear()
            self._blocked.clear()
            self._holding = False
            self._enabled = True
            self._cond.notify_all()
        self._on_change()

    # ------------------------------------------------------------------ control

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        with self._cond:
            self._enabled = bool(value)
        self._on_change()

    def submit(self, event: dict[str, Any], payload: str) -> None:
        """Record a new event and queue its delivery (called in creation order)."""
        with self._cond:
            if not self._enabled:
                status = DISABLED
            elif not self.url:
                status = NO_ENDPOINT
            elif self._holding:
                status = HELD
            else:
                status = PENDING
            record = DeliveryRecord(
                event["id"], event["type"], payload, status, key=ordering_key(event)
            )
            self._records[event["id"]] = record
            if status == HELD:
                self._held.append(event["id"])
            elif status == PENDING:
                self._push(record, time.monotonic())
        self._on_change()

    def redeliver(self, event_id: str) -> None:
        """Send an event again (same payload, fresh signature), whatever its status."""
        with self._cond:
            record = self._records.get(event_id)
            if record is None:
                raise KeyError(event_id)
            record.status = PENDING
            self._push(record, time.monotonic())
        self._on_change()

    @property
    def holding(self) -> bool:
        return self._holding

    def hold(self) -> None:
        """Park new events instead of delivering them, until release()."""
        with self._cond:
            self._holding = True
        self._on_change()

    def release(self, order: str | Sequence[str] | None = None) -> list[str]:
        """Deliver parked events and stop holding; returns the event ids in delivery order.

        ``order``: None for creation order, ``"reverse"`` for newest first, or a sequence of
        event ids and/or event types to send first (in that order); the rest follow in
        creation order. Events of one PaymentIntent keep the order given here.
        """
        with self._cond:
            held = [self._records[eid] for eid in self._held if eid in self._records]
            if order == "reverse":
                ordered = list(reversed(held))
            elif order is None:
                ordered = held
            else:
                ordered = []
                for wanted in order:
                    ordered += [
                        r for r in held if r not in ordered and wanted in (r.event_id, r.event_type)
                    ]
                ordered += [r for r in held if r not in ordered]
            now = time.monotonic()
            for record in ordered:
                record.status = PENDING
                self._push(record, now)
            self._held.clear()
            self._holding = False
        self._on_change()
        return [r.event_id for r in ordered]

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or in flight (held events don't count)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._heap and not self._inflight, timeout)

    def record(self, event_id: str) -> dict[str, Any] | None:
        with self._cond:
            record = self._records.get(event_id)
            return record.as_dict() if record else None

    # -------------------------------------------------------------- persistence

    def snapshot(self) -> dict[str, Any]:
        """What a restart needs: the switches and every event's delivery record (payloads
        are rebuilt from the events). Queued and in-flight deliveries are PENDING records."""
        with self._cond:
            return {
                "enabled": self._enabled,
                "holding": self._holding,
                "held": list(self._held),
                # Compact rows: this runs under the dispatcher's lock, once per record. An
                # attempt's dict never changes once appended, so the list is copied, not it.
                "records": [
                    (r.event_id, r.event_type, r.status, list(r.attempts), r.key, r.retry_no)
                    for r in self._records.values()
                ],
            }

    def restore(self, data: dict[str, Any], payloads: dict[str, str]) -> None:
        """Load a snapshot() taken before a restart: pending deliveries are queued again
        (due now, in creation order), so an event in flight at the restart is sent again."""
        with self._cond:
            self._heap.clear()
            self._blocked.clear()
            self._records = {}
            now = time.monotonic()
            for event_id, event_type, status, attempts, key, retry_no in data["records"]:
                if event_id not in payloads:
                    continue  # an event newer than the state's snapshot: it was not kept
                record = DeliveryRecord(
                    event_id, event_type, payloads[event_id], status, attempts, key, retry_no
                )
                self._records[record.event_id] = record
                if record.status == PENDING:
                    self._push(record, now, record.retry_no)
            self._enabled = data["enabled"]
            self._holding = data["holding"]
            self._held = [eid for eid in data["held"] if eid in self._records]

    # ------------------------------------------------------------------- worker

    def _push(self, record: DeliveryRecord, due: float, retry_no: int = 0) -> None:
        record.retry_no = retry_no
        heapq.heappush(self._heap, (due, next(self._seq), record.event_id, retry_no))
        self._cond.notify_all()

    def _take_due(self) -> tuple[DeliveryRecord, int] | None:
        """The earliest due attempt whose PaymentIntent has none in flight (under _cond)."""
        now = time.monotonic()
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            record = self._records.get(entry[2])
            if record is None:  # dropped by reset()
                self._cond.notify_all()
                continue
            if record.key in self._busy:
                self._blocked.setdefault(record.key, []).append(entry)
                continue
            return record, entry[3]
        return None

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    taken = self._take_due()
                    if taken is not None:
                        break
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                record, retry_no = taken
                self._busy.add(record.key)
                self._inflight += 1
                url, payload = self.url, record.payload
            attempt = self._send(url, payload)
            with self._cond:
                self._inflight -= 1
                self._busy.discard(record.key)
                # Later events of this PaymentIntent wait no longer: back on the heap with
                # their original (due, seq), so they go out in the order they were queued.
                for entry in self._blocked.pop(record.key, []):
                    heapq.heappush(self._heap, entry)
                self._finish(record.event_id, retry_no, attempt)
                self._cond.notify_all()
            self._on_change()

    def _finish(self, event_id: str, retry_no: int, attempt: dict[str, Any]) -> None:
        record = self._records.get(event_id)
        if record is None:
            return
        record.attempts.append(attempt)
        ok = attempt["status_code"] is not None and 200 <= attempt["status_code"] < 300
        if ok:
            record.status = DELIVERED
        elif not attempt["url"]:
            record.status = NO_ENDPOINT
        elif retry_no < len(self.retry_delays):
            record.status = PENDING
            self._push(record, time.monotonic() + self.retry_delays[retry_no], retry_no + 1)
        else:
            record.status = FAILED
        outcome = attempt["status_code"] or attempt["error"]
        next_step = {PENDING: " (will retry)", FAILED: " (gave up)"}.get(record.status, "")
        self._log(
            f"webhook {record.event_type} {event_id} -> {outcome} "
            f"[attempt {len(record.attempts)}]{next_step}"
        )

    def _send(self, url: str | None, payload: str) -> dict[str, Any]:
        attempt: dict[str, Any] = {
            "at": time.time(),
            "url": url,
            "status_code": None,
            "error": None,
            "response_body": None,
        }
        if not url:
            attempt["error"] = "no webhook_url configured"
            return attempt
        if not url.startswith(("http://", "https://")):
            attempt["error"] = f"unsupported webhook_url scheme: {url}"
            return attempt
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign_payload(payload, self.secret),
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                attempt["status_code"] = response.status
                attempt["response_body"] = _snippet(response.read())
        except urllib.error.HTTPError as exc:
            attempt["status_code"] = exc.code
            attempt["error"] = f"HTTP {exc.code}"
            attempt["response_body"] = _snippet(exc.read())
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            attempt["error"] = f"{type(exc).__name__}: {exc}"
        return attempt


def _snippet(body: bytes, limit: int = 500) -> str:
    return body[:limit].decode("utf-8", "replace")
