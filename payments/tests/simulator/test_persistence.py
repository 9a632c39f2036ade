"""The simulator's state file (`state_file=` / `--state FILE`): a restart keeps every object,
event, stored idempotent response and pending webhook (issue 14, item 9)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from payments.simulator import StripeSimulator
from payments.simulator.persistence import StateFileError
from payments.tests.simulator.helpers import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    create_pi,
    make_client,
    paid_pi,
    raw,
)

ROOT = Path(__file__).resolve().parents[3]


def simulator(state_file, **kwargs) -> StripeSimulator:
    options = {
        "webhook_secret": WEBHOOK_SECRET,
        "api_key": SECRET_KEY,
        "publishable_key": PUBLISHABLE_KEY,
        "retry_delays": (0.05,),
        "state_file": state_file,
        **kwargs,
    }
    return StripeSimulator(**options)


def test_a_restart_keeps_objects_events_and_idempotent_responses(tmp_path, receiver):
    path = tmp_path / "sim.json"
    with simulator(path, webhook_url=receiver.url) as first:
        client = make_client(first)
        created = client.v1.payment_intents.create(
            {"amount": 1500, "currency": "usd"}, {"idempotency_key": "order-7"}
        )
        paid = paid_pi(client, 2500)
        refund = client.v1.refunds.create({"payment_intent": paid.id, "amount": 500})
        client.v1.payment_intents.update(created.id, {"metadata": {"note": "kept"}})
        pending = create_pi(client, 900)
        assert first.wait_for_deliveries(timeout=5)
        before = {
            "intents": [pi.to_dict() for pi in client.v1.payment_intents.list().data],
            "charge": client.v1.charges.retrieve(paid.latest_charge).to_dict(),
            "refund": client.v1.refunds.retrieve(refund.id).to_dict(),
            "log": first.event_log(),
        }
    assert first.restored is False

    with simulator(path, webhook_url=receiver.url) as second:
        client = make_client(second)
        assert second.restored is True
        assert [pi.to_dict() for pi in client.v1.payment_intents.list().data] == before["intents"]
        assert client.v1.charges.retrieve(paid.latest_charge).to_dict() == before["charge"]
        assert client.v1.refunds.retrieve(refund.id).to_dict() == before["refund"]
        assert second.event_log() == before["log"]
        # The stored response is replayed, not executed again.
        replay = client.v1.payment_intents.create(
            {"amount": 1500, "currency": "usd"}, {"idempotency_key": "order-7"}
        )
        assert replay.id == created.id
        assert replay.last_response.headers.get("Idempotent-Replayed") == "true"
        # Objects keep working, a restored PaymentMethod with its card's behaviour too.
        again = client.v1.payment_intents.confirm(
            pending.id, {"payment_method": paid.payment_method}
        )
        assert (again.status, again.payment_method) == ("succeeded", paid.payment_method)
        assert second.wait_for_deliveries(timeout=5)
        assert [e["type"] for e in second.events][-2:] == [
            "charge.succeeded",
            "payment_intent.succeeded",
        ]


def test_pending_and_held_webhooks_are_delivered_after_a_restart(tmp_path, receiver):
    path = tmp_path / "sim.json"
    receiver.scripted_statuses = [500]
    # The first answer fails and its retry is a minute away when the simulator stops.
    with simulator(path, webhook_url=receiver.url, retry_delays=(60,)) as first:
        client = make_client(first)
        waiting = create_pi(client)
        deadline = time.monotonic() + 5
        while not receiver.deliveries and time.monotonic() < deadline:
            time.sleep(0.01)
        first.hold_events()
        held = paid_pi(client)
    log = {e["id"]: e["delivery"] for e in first.event_log()}
    assert [d["status"] for d in log.values()] == ["pending", "held", "held", "held"]

    with simulator(path, webhook_url=receiver.url) as second:
        # The retry is due at once after the restart; the held events stay held ...
        assert second.wait_for_deliveries(timeout=5)
        assert [d["status"] for d in receiver.deliveries] == [500, 200]
        assert receiver.events()[0]["data"]["object"]["id"] == waiting.id
        assert raw(second, "GET", "/_simulator/webhooks")[2]["holding"] is True
        # ... until released.
        second.release_events()
        assert second.wait_for_deliveries(timeout=5)

    assert receiver.types() == [
        "payment_intent.created",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    assert receiver.events()[-1]["data"]["object"]["id"] == held.id
    (first_event,) = [e for e in second.event_log() if e["data"]["object"]["id"] == waiting.id]
    assert [a["status_code"] for a in first_event["delivery"]["attempts"]] == [500, 200]


def test_each_write_replaces_the_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "sim.json"
    sim = simulator(path)
    client = make_client(sim.start())
    try:
        first = create_pi(client)
        sim.state_file.save()
        saved = path.read_text()

        def crash(src, dst):
            raise OSError("disk full")

        monkeypatch.setattr("payments.simulator.persistence.os.replace", crash)
        create_pi(client)
        with pytest.raises(OSError, match="disk full"):
            sim.state_file.save()

        # The previous snapshot is intact and no temporary file is left behind.
        assert path.read_text() == saved
        assert sorted(p.name for p in tmp_path.iterdir()) == ["sim.json"]
        state = json.loads(saved)["state"]
        assert [o["id"] for o in state["objects"] if o["object"] == "payment_intent"] == [first.id]
        monkeypatch.undo()
    finally:
        sim.stop()
    # The change that failed to be written is written on stop.
    objects = json.loads(path.read_text())["state"]["objects"]
    assert len([o for o in objects if o["object"] == "payment_intent"]) == 2


def test_an_unreadable_state_file_is_an_error_not_an_empty_simulator(tmp_path):
    path = tmp_path / "sim.json"
    path.write_text('{"version": 1, "state": ')

    with pytest.raises(StateFileError, match="Cannot restore the simulator from"):
        simulator(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Command:
    """`manage.py stripe_simulator --state FILE` in a subprocess."""

    def __init__(self, state: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.update(STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY)
        self.proc = subprocess.Popen(  # noqa: S603 - our interpreter and manage.py
            [sys.executable, "manage.py", "stripe_simulator", "--port", str(self.port),
             "--state", str(state)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                assert self.proc.poll() is None, self.proc.stdout.read()
                time.sleep(0.05)
        raise AssertionError("the simulator did not start")

    def terminate(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        output, _ = self.proc.communicate(timeout=30)
        return output


def test_the_command_keeps_its_state_across_a_sigterm_restart(tmp_path):
    state = tmp_path / "state" / "sim.json"
    first = Command(state)
    status, _, created = raw(first, "POST", "/v1/payment_intents",
                             {"amount": 1234, "currency": "usd"}, key=SECRET_KEY)  # fmt: skip
    assert status == 200
    output = first.terminate()
    assert first.proc.returncode == 0
    assert f"State: {state} (new)" in output

    second = Command(state)
    try:
        status, _, body = raw(second, "GET", f"/v1/payment_intents/{created['id']}",
                              key=SECRET_KEY)  # fmt: skip
        assert (status, body["amount"], body["status"]) == (
            200, 1234, "requires_payment_method"
        )  # fmt: skip
    finally:
        output = second.terminate()
    assert f"State: {state} (restored 1 events)" in output


def test_a_processing_payment_survives_a_restart_and_settles_after_it(tmp_path, receiver):
    path = tmp_path / "sim.json"
    with simulator(path, webhook_url=receiver.url) as first:
        client = make_client(first)
        pending = create_pi(client)
        processing = client.v1.payment_intents.confirm(
            pending.id, {"payment_method": "pm_card_processing"}
        )
        assert processing.status == "processing"

    with simulator(path, webhook_url=receiver.url) as second:
        client = make_client(second)
        assert client.v1.payment_intents.retrieve(pending.id).status == "processing"
        settled = second.settle_processing(pending.id)
        assert settled["status"] == "succeeded"
        assert second.wait_for_deliveries(timeout=5)

    assert receiver.types()[-2:] == ["charge.succeeded", "payment_intent.succeeded"]
