"""Idempotency-Key handling with Stripe's semantics.

* The first request with a key executes; its response (status, body) is stored.
* A later request with the same key, path and parameters gets the stored response back,
  flagged with ``Idempotent-Replayed: true``, and executes nothing.
* The same key with another path or other parameters is a 400 ``idempotency_error``.
* Responses that never started executing (validation errors, 5xx) are not stored, so the
  request may be retried with the same key.

Race safety: while a key is in flight, concurrent requests with that key wait for it to finish
and then get the replay, so two simultaneous identical requests create one object. (Real
Stripe answers the loser with a 409 instead; the SDK retries 409s by itself when
``max_network_retries`` > 0, so the outcome for the shop is the same.) If the first request is
still running after ``wait_timeout`` seconds, the waiter does get that 409.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

MAX_KEY_LENGTH = 255


@dataclass
class StoredResponse:
    status: int
    body: dict[str, Any]
    request_id: str
    replayable: bool = True
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Entry:
    method: str
    path: str
    fingerprint: str
    done: threading.Event = field(default_factory=threading.Event)
    response: StoredResponse | None = None


class IdempotencyStore:
    """Remembers responses by Idempotency-Key (in memory, for the simulator's lifetime)."""

    def __init__(self, wait_timeout: float = 30.0) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self.wait_timeout = wait_timeout

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        """The stored responses (for persistence.StateFile); keys still in flight are left
        out, so after a restart their retry executes afresh."""
        with self._lock:
            return [
                {
                    "key": key,
                    "method": entry.method,
                    "path": entry.path,
                    "fingerprint": entry.fingerprint,
                    "response": dataclasses.asdict(entry.response),
                }
                for key, entry in self._entries.items()
                if entry.response is not None
            ]

    def restore(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            self._entries = {}
            for item in items:
                entry = _Entry(item["method"], item["path"], item["fingerprint"])
                entry.response = StoredResponse(**item["response"])
                entry.done.set()
                self._entries[item["key"]] = entry

    def run(
        self,
        key: str,
        method: str,
        path: str,
        params: dict[str, Any],
        execute: Callable[[], StoredResponse],
    ) -> tuple[StoredResponse, bool]:
        """Execute once per key; returns (response, replayed)."""
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                400,
                f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters long.",
                type="idempotency_error",
                replayable=False,
            )
        fingerprint = json.dumps(params, sort_keys=True, default=str)
        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is None:
                    entry = _Entry(method, path, fingerprint)
                    self._entries[key] = entry
                    owner = True
                else:
                    owner = False
            if owner:
                return self._execute(key, entry, execute), False
            if not entry.done.wait(self.wait_timeout):
                raise ApiError(
                    409,
                    "There is currently another in-progress request using this Idempotency "
                    "Key. Please try again later.",
                    type="idempotency_error",
                    replayable=False,
                    headers={"Stripe-Should-Retry": "true"},
                )
            if entry.response is None:
                continue  # the first attempt was not stored; this request may execute now
            self._check_same_request(key, entry, method, path, fingerprint)
            return entry.response, True

    def _execute(
        self, key: str, entry: _Entry, execute: Callable[[], StoredResponse]
    ) -> StoredResponse:
        response: StoredResponse | None = None
        try:
            response = execute()
            return response
        finally:
            with self._lock:
                if response is not None and response.replayable:
                    entry.response = response
                else:
                    # Not stored: forget the key so a retry executes afresh.
                    self._entries.pop(key, None)
            entry.done.set()

    @staticmethod
    def _check_same_request(
        key: str, entry: _Entry, method: str, path: str, fingerprint: str
    ) -> None:
        if (entry.method, entry.path) != (method, path):
            raise ApiError(
                400,
                f"Keys for idempotent requests can only be used for the same endpoint they "
                f"were first used for ('{entry.method} {entry.path}' vs '{method} {path}'). "
                f"Try using a key other than '{key}' if you meant to execute a different "
                f"request.",
                type="idempotency_error",
                replayable=False,
            )
        if entry.fingerprint != fingerprint:
            raise ApiError(
                400,
                f"Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                f"execute a different request.",
                type="idempotency_error",
                replayable=False,
            )
