"""A real `celery worker` (prefork pool, Redis broker) logs JSON lines that name the task and
the request that queued it, and serves the metrics of what its tasks did (issue 14, item 8).
"""

import contextlib
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import structlog
from django.db import connection

from audit.models import AuditEvent
from config import metrics as config_metrics
from config.celery import app
from orders import tasks
from orders.models import Order, OrderEmail
from orders.tests.factories import make_due, make_order
from payments import tasks as payment_tasks
from shop.tests.factories import ProductFactory

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Worker:
    """`celery -A config -q worker` on its own queue, its output collected line by line."""

    def __init__(self, *, queue_name: str, metrics_dir: Path, port: int) -> None:
        db = connection.settings_dict
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.update(
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            CELERY_BROKER_URL=BROKER,
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            WORKER_METRICS_PORT=str(port),
            WORKER_METRICS_ADDR="127.0.0.1",
            EMAIL_URL="dummymail://",
            LOG_LEVEL="INFO",
        )
        env.pop("DEBUG", None)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.proc = subprocess.Popen(  # noqa: S603 - our interpreter and Celery
            [sys.executable, "-m", "celery", "-A", "config", "-q", "worker",
             "-Q", queue_name, "--pool", "prefork", "--concurrency", "2",
             "--without-mingle", "--without-gossip", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                assert self.proc.poll() is None, "\n".join(self.seen)
                continue
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError("not seen in the worker's output:\n" + "\n".join(self.seen))

    def collect_until(self, predicate, timeout: float = 30.0) -> list[str]:
        """Every line so far, once predicate(lines) holds (the output lags the metrics)."""
        deadline = time.monotonic() + timeout
        while not predicate(self.seen) and time.monotonic() < deadline:
            try:
                self.seen.append(self.lines.get(timeout=0.1))
            except queue.Empty:
                continue
        return self.seen

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def publishing_to(broker_url: str):
    """Publish this process's tasks to the real broker (the suite runs them eagerly)."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=broker_url, task_always_eager=False)
    app.close()
    try:
        yield
    finally:
        app.conf.update(saved)
        app.close()


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def sample(body: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    match = re.search(pattern, body, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.mark.django_db(transaction=True)
def test_a_worker_logs_json_with_task_and_request_ids_and_exports_its_metrics(tmp_path, settings):
    settings.EMAIL_SEND_ON_COMMIT = False  # the worker sends it, as with a real broker
    product = ProductFactory(stock=5)
    due = make_order(lines=[(product.pk, 2)], status=Order.Status.PAYMENT_PENDING)
    make_due(due)
    queue_name = f"test-observability-{uuid.uuid4().hex[:12]}"
    port = free_port()
    worker = Worker(queue_name=queue_name, metrics_dir=tmp_path, port=port)
    try:
        worker.wait_for(lambda line: "worker_metrics_serving" in line)

        with publishing_to(BROKER):
            structlog.contextvars.bind_contextvars(request_id="req-observability-1")
            try:
                expiry = tasks.expire_orders.apply_async(queue=queue_name)
                email = tasks.send_order_email_task.apply_async(
                    kwargs={"order_id": str(due.pk), "kind": "placed"}, queue=queue_name
                )
                missing = tasks.send_order_email_task.apply_async(
                    kwargs={"order_id": str(uuid.uuid4()), "kind": "placed"}, queue=queue_name
                )
            finally:
                structlog.contextvars.clear_contextvars()
            # Several runs, so both pool processes are likely to take some: the endpoint
            # adds up the processes' samples, whichever ran them.
            for _ in range(6):
                payment_tasks.reconcile_payments.apply_async(queue=queue_name)

        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline:
            body = scrape(port)
            done = sum(
                sample(body, "shop_celery_tasks_total", task=name, outcome=outcome)
                for name, outcome in (
                    ("orders.tasks.expire_orders", "success"),
                    ("orders.tasks.send_order_email", "success"),
                    ("orders.tasks.send_order_email", "failure"),
                    ("payments.tasks.reconcile_payments", "success"),
                )
            )
            if done >= 9:
                break
            time.sleep(0.1)

        # What the tasks did, counted where they ran and exported by the worker.
        assert sample(body, "shop_reservations_expired_total") == 1
        assert sample(body, "shop_order_emails_total", kind="placed", outcome="sent") == 1
        assert sample(body, "shop_order_emails_total", kind="placed", outcome="failed") == 1
        assert sample(body, "shop_payment_reconciliation_runs_total", outcome="ok") == 6
        assert (
            sample(body, "shop_celery_tasks_total", task="orders.tasks.expire_orders",
                   outcome="success"),
            sample(body, "shop_celery_tasks_total", task="orders.tasks.send_order_email",
                   outcome="success"),
            sample(body, "shop_celery_tasks_total", task="orders.tasks.send_order_email",
                   outcome="failure"),
            sample(body, "shop_celery_tasks_total", task="payments.tasks.reconcile_payments",
                   outcome="success"),
        ) == (1, 1, 1, 6)  # fmt: skip
        assert (
            sample(
                body,
                "shop_celery_task_duration_seconds_count",
                task="payments.tasks.reconcile_payments",
            )
            == 6
        )
        assert (
            sample(
                body,
                "shop_celery_task_last_success_timestamp_seconds",
                task="payments.tasks.reconcile_payments",
            )
            > time.time() - 120
        )
        assert Order.objects.get(pk=due.pk).status == Order.Status.EXPIRED
        assert OrderEmail.objects.get(order=due, kind="placed").sent_at is not None
        finished = {expiry.id, email.id, missing.id}

        def all_traced(lines):
            traced = [json.loads(line) for line in lines if '"celery.app.trace"' in line]
            ids = {record.get("task_id") for record in traced}
            reconciles = [r for r in traced if r.get("task") == "payments.tasks.reconcile_payments"]
            return finished <= ids and len(reconciles) == 6

        lines = worker.collect_until(all_traced)
    finally:
        worker.stop()

    # Every line is a JSON object: Celery's own lines too, not its plain text.
    records = [json.loads(line) for line in lines if line.strip()]
    assert len(records) == len([line for line in lines if line.strip()])
    by_task = {}
    for record in records:
        if record.get("logger") == "celery.app.trace":
            by_task[record["task_id"]] = record
    assert by_task[expiry.id]["request_id"] == "req-observability-1"
    assert by_task[expiry.id]["task"] == "orders.tasks.expire_orders"
    assert by_task[email.id]["request_id"] == "req-observability-1"
    assert by_task[missing.id]["level"] == "error"
    assert by_task[missing.id]["request_id"] == "req-observability-1"
    # Beat's runs carry no request id (none queued them from a request) but their task id.
    reconciles = [r for r in by_task.values() if r["task"] == "payments.tasks.reconcile_payments"]
    assert len(reconciles) == 6
    assert all("request_id" not in r for r in reconciles)
    # The audit trail of the expiry names the request that queued the task.
    assert set(
        AuditEvent.objects.filter(entity_id=str(due.pk), action="order.expire").values_list(
            "request_id", flat=True
        )
    ) == {"req-observability-1"}


# --- in-process: eager tasks and the endpoint's access rule -------------------------------


@pytest.mark.django_db
def test_an_eager_task_adds_its_ids_to_the_callers_log_context_and_gives_it_back():
    structlog.contextvars.bind_contextvars(request_id="req-eager", view="shop:catalog")
    seen = {}

    def spy(**kwargs):
        seen.update(structlog.contextvars.get_contextvars())
        return 0

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("orders.services.expire_due_orders", spy)
            result = tasks.expire_orders.apply()
        after = structlog.contextvars.get_contextvars()
    finally:
        structlog.contextvars.clear_contextvars()

    assert seen == {
        "request_id": "req-eager",
        "view": "shop:catalog",
        "task_id": result.id,
        "task": "orders.tasks.expire_orders",
    }
    assert after == {"request_id": "req-eager", "view": "shop:catalog"}


@pytest.mark.django_db
def test_task_outcomes_are_counted_by_state():
    from prometheus_client import REGISTRY

    def count(outcome):
        labels = {"task": "payments.tasks.reconcile_payments", "outcome": outcome}
        return REGISTRY.get_sample_value("shop_celery_tasks_total", labels) or 0.0

    before = (count("success"), count("failure"))
    payment_tasks.reconcile_payments.apply()
    with pytest.MonkeyPatch.context() as patch:

        def broken(**kwargs):
            raise RuntimeError("boom")

        patch.setattr("payments.services.reconcile_payments", broken)
        payment_tasks.reconcile_payments.apply()

    assert (count("success") - before[0], count("failure") - before[1]) == (1, 1)


def test_the_worker_endpoint_answers_allowed_networks_only(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    responses = []

    def start_response(status, headers):
        responses.append((status, dict(headers)))

    allowed = config_metrics.worker_metrics_app(
        {"REMOTE_ADDR": "10.1.2.3", "PATH_INFO": "/metrics"}, start_response
    )
    refused = config_metrics.worker_metrics_app(
        {"REMOTE_ADDR": "192.0.2.7", "PATH_INFO": "/metrics"}, start_response
    )

    assert [status for status, _ in responses] == ["200 OK", "403 Forbidden"]
    assert b"shop_celery_tasks_total" in b"".join(allowed)
    assert b"".join(refused) == b"Forbidden"
