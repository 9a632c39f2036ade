"""The simulator's state on disk (``--state FILE``), so a restart keeps every object.

One JSON file holds the Stripe objects and events (``SimulatorState``), the stored
Idempotency-Key responses, and each event's delivery record with the webhook switches
(enabled, holding, held events). Deliveries that were queued, waiting for a retry or in
flight are sent again after a restart (at least once, as Stripe does).

Writes are atomic: the snapshot goes to a temporary file in the same directory, which
``os.replace`` then renames over the old one, so a crash mid-write leaves the previous
snapshot whole. They are debounced: a change marks the state dirty and a background
thread writes at most once per ``interval`` seconds (longer when a snapshot itself takes
long, so that a big state never keeps the API waiting on its lock), and once more when
the simulator stops. A process killed with SIGKILL can lose the changes of the last
interval; no fsync either, since what this guards against is the process going away, not
the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import SimulatorApp

FORMAT_VERSION = 1


class StateFileError(Exception):
    """The state file exists but cannot be read back."""


class StateFile:
    """Loads the simulator's state from ``path`` and keeps writing it there."""

    def __init__(self, path: str | os.PathLike[str], app: SimulatorApp, interval: float = 0.2):
        self.path = Path(path)
        self.interval = interval
        self._app = app
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # Events never change once created: their JSON is encoded once.
        self._encoded_events: dict[str, str] = {}
        self.last_duration = 0.0
        self.writes = 0

    # ------------------------------------------------------------------ reading

    def load(self) -> bool:
        """Restore the app from the file; False when there is no file yet."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return False
        try:
            data = json.loads(text)
            if data.get("version") != FORMAT_VERSION:
                raise StateFileError(f"unknown format version {data.get('version')!r}")
            app = self._app
            with app.state.lock:
                app.state.restore(data["state"])
                payloads = {
                    obj["id"]: app.event_payload(obj)
                    for obj in data["state"]["objects"]
                    if obj["object"] == "event"
                }
                app.idempotency.restore(data["idempotency"])
                app.dispatcher.restore(data["webhooks"], payloads)
        except (ValueError, KeyError, TypeError, StateFileError) as exc:
            raise StateFileError(f"Cannot restore the simulator from {self.path}: {exc}") from exc
        return True

    # ------------------------------------------------------------------ writing

    def mark_dirty(self) -> None:
        self._dirty.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="stripe-simulator-state", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the writer and write whatever changed since its last write."""
        self._stopping.set()
        self._dirty.set()  # wake it up
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
        self.save()

    def _run(self) -> None:
        while True:
            self._dirty.wait()
            if self._stopping.is_set():
                return
            # Gather the changes of a burst into one write.
            self._stopping.wait(max(self.interval, 4 * self.last_duration))
            if self._stopping.is_set():
                return
            self.save()

    def save(self) -> None:
        """Write the current state now (atomically), if anything changed."""
        with self._write_lock:
            if not self._dirty.is_set():
                return
            self._dirty.clear()
            started = time.monotonic()
            try:
                self._write(self._snapshot())
            except BaseException:
                self._dirty.set()  # try again with the next change
                raise
            self.last_duration = time.monotonic() - started
            self.writes += 1

    def _snapshot(self) -> str:
        app = self._app
        # The state first: its events reached the dispatcher under the state lock, so each
        # has its delivery record by the time the dispatcher's snapshot is taken (records of
        # newer events are skipped on load). Each part holds only its own lock.
        state = app.state.snapshot()
        idempotency = app.idempotency.snapshot()
        webhooks = app.dispatcher.snapshot()
        # Encoded outside the lock: the API keeps answering meanwhile.
        events = self._encoded_events
        if len(events) > sum(1 for obj in state["objects"] if obj["object"] == "event"):
            events.clear()  # a reset() forgot events that are still memoized
        parts = []
        for obj in state["objects"]:
            if obj["object"] != "event":
                parts.append(json.dumps(obj))
                continue
            text = events.get(obj["id"])
            if text is None:
                text = events[obj["id"]] = json.dumps(obj)
            parts.append(text)
        return (
            f'{{"version": {FORMAT_VERSION}, '
            f'"state": {{"objects": [{", ".join(parts)}], '
            f'"pm_cards": {json.dumps(state["pm_cards"])}}}, '
            f'"idempotency": {json.dumps(idempotency)}, "webhooks": {json.dumps(webhooks)}}}'
        )

    def _write(self, text: str) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
