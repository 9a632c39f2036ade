"""The fault matrix: the shop on a production-style stack, under load, one fault at a time.

    make faults                          # about 4-5 minutes
    .venv/bin/python -m bench.faults --quick
    .venv/bin/python -m bench.faults --faults redis_down,webhooks_lost --keep

Starts, natively and on free ports: PostgreSQL database `shop_faults_<pid>` on the server
of DATABASE_URL (created, migrated, dropped at the end), a redis-server of its own (cache
on db 0, Celery broker on db 1; never the machine's 6379), the Stripe simulator with a
state file delivering webhooks to the shop, gunicorn with the shop's config/gunicorn.py,
a Celery worker (prefork) exporting its metrics, and Celery beat. All with DEBUG off.

Load: `--clients` threads, each checking out over the API (JWT, Idempotency-Key), then
confirming the PaymentIntent at the simulator as a browser would (1 in 10 with a card that
declines, 1 in 10 never paid, left to expire). The faults, one at a time:

  baseline              no fault: the reference row
  kill_gunicorn_worker  SIGKILL one gunicorn worker (the master starts another)
  kill_celery_worker    SIGKILL the worker and its pool; restarted after 5 s
  pg_terminate          pg_terminate_backend() of every connection to the shop's database
  redis_down            the Redis server stopped for 10 s, then started again (empty)
  webhooks_held         webhooks held past the reservation TTL, expiry run, then released
  webhooks_lost         webhooks dropped for 10 s (lost), then a reconciliation run
  simulator_restart     the simulator stopped (SIGTERM) and started again on its state file

Per fault: requests by kind and status while it lasted; `recovered`: seconds from the end of
the fault (or the kill) until requests succeed again and the part hit works again (worker
running tasks, simulator answering, held or lost payments applied); then load stops and
the invariants are checked until they hold (`settled`, at most --settle-timeout):

  - orders.selectors.stock_discrepancies() is empty;
  - every succeeded PaymentIntent at the simulator has a paid, fulfilled or refunded order;
  - no such order without a succeeded PaymentIntent;
  - every PaymentIntent's amount equals its order's total;
  - no order has two succeeded PaymentIntents that were not refunded (charged twice).

`late` counts orders that ended and then had a payment arrive (late payment accepted, or
refunded because the stock was gone): a webhook or reconciliation that came too late.

Prints a table, writes every figure to bench/results/faults-<time>.json (compare runs with
it) and exits 1 when a fault did not recover or an invariant broke.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg

from bench import db
from bench.http_arm import free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shop"
FAULTS = (
    "baseline",
    "kill_gunicorn_worker",
    "kill_celery_worker",
    "pg_terminate",
    "redis_down",
    "webhooks_held",
    "webhooks_lost",
    "simulator_restart",
)
PAID_LIKE = {"paid", "fulfilled", "refunded"}
SECRET_KEY_STRIPE = "sk_test_faults"  # noqa: S105 - the simulator's test key
PUBLISHABLE_KEY = "pk_test_faults"
WEBHOOK_SECRET = "whsec_faults"  # noqa: S105 - signs the simulator's webhooks
# Outcomes that are the shop answering as designed, not failures.
EXPECTED = {("confirm", 402), ("checkout", 409)}


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n")[0])
    p.add_argument("--faults", default=",".join(FAULTS), help="comma-separated, in order")
    p.add_argument("--quick", action="store_true", help="shorter phases (about 2 minutes)")
    p.add_argument("--clients", type=int, default=4, help="load threads (default 4)")
    p.add_argument("--ttl", type=int, default=15, help="RESERVATION_TTL of the stack (s)")
    p.add_argument("--gunicorn-workers", type=int, default=2)
    p.add_argument("--recovery-timeout", type=float, default=90.0)
    p.add_argument("--settle-timeout", type=float, default=60.0)
    p.add_argument("--keep", action="store_true", help="keep the database and the run dir")
    p.add_argument("--out", help="result file (default bench/results/faults-<time>.json)")
    args = p.parse_args(argv)
    args.faults = [f for f in args.faults.split(",") if f]
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        p.error(f"unknown faults {sorted(unknown)}; choose from {', '.join(FAULTS)}")
    args.phase_seconds = 4.0 if args.quick else 6.0  # load before and after each fault
    args.outage_seconds = 6.0 if args.quick else 10.0  # Redis stopped, webhooks lost
    return args


# --- processes --------------------------------------------------------------------------


class Proc:
    """A child process in its own session (so a kill reaches its children), logging to a
    file of the run directory. Only processes started here are ever signalled."""

    def __init__(self, name: str, cmd: list[str], env: dict, logdir: Path):
        self.name, self.cmd, self.env = name, cmd, env
        self.log_path = logdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Proc:
        log = open(self.log_path, "a")  # noqa: SIM115 - the child owns it; closed below
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - our own commands
                self.cmd,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive():
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.proc.wait()

    def kill(self) -> None:
        self.signal_group(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def tail(self, n: int = 12) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()[-n:]
        except OSError:
            return ""
        return "\n".join(line[:300] for line in lines)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        if int(raw[raw.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def wait_until(check, timeout: float, interval: float = 0.25) -> float | None:
    """Seconds until check() is true, or None after `timeout`."""
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except Exception:  # noqa: S110 - a component still down answers with errors
            pass
        if time.monotonic() - started > timeout:
            return None
        time.sleep(interval)


# --- the stack -------------------------------------------------------------------------


class Stack:
    def __init__(self, args):
        self.args = args
        self.server_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
        if not self.server_url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("The fault matrix needs PostgreSQL: DATABASE_URL=postgres://...")
        self.dbname = f"shop_faults_{os.getpid()}"
        self.rundir = Path(tempfile.mkdtemp(prefix="shop-faults-"))
        self.redis_port, self.web_port = free_port(), free_port()
        self.sim_port, self.worker_metrics_port = free_port(), free_port()
        self.web = f"http://127.0.0.1:{self.web_port}"
        self.sim = f"http://127.0.0.1:{self.sim_port}"
        self.procs: dict[str, Proc] = {}
        self.database_url = None

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
        for name in ("PROMETHEUS_MULTIPROC_DIR", "CELERY_BROKER_URL", "EMAIL_URL", "DEBUG"):
            env.pop(name, None)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="false",
            SECRET_KEY=self.secret_key,
            JWT_SIGNING_KEY=self.jwt_key,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="false",
            SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false",
            DATABASE_URL=self.database_url,
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            CELERY_BROKER_URL=f"redis://127.0.0.1:{self.redis_port}/1",
            STRIPE_SECRET_KEY=SECRET_KEY_STRIPE,
            STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=self.sim,
            RESERVATION_TTL=str(self.args.ttl),
            THROTTLE_CHECKOUT="10000000/min",
            THROTTLE_AUTH="10000000/min",
            JWT_ACCESS_MINUTES="600",
            # Emails are rendered and handed to a backend that drops them.
            EMAIL_URL="dummymail://",
            LOG_LEVEL="INFO",
            WORKER_METRICS_PORT="0",
        )
        return env

    # setup

    def setup(self):
        self.secret_key = secrets.token_urlsafe(40)
        self.jwt_key = secrets.token_urlsafe(40)
        self.database_url = db.create_database(self.server_url, self.dbname)
        self.conninfo = db.conninfo(self.database_url)
        os.environ.update(self.env())
        os.environ["LOG_LEVEL"] = "WARNING"  # this process's own log: its HTTP calls are noise
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        self.products = db.seed_products(prefix="FLT", count=20, stock=1_000_000)
        users = db.seed_users(prefix="faults", count=self.args.clients + 1)
        self.tokens = db.access_tokens(users)
        self.start_redis()
        self.start("simulator")
        self.start("gunicorn")
        self.start("worker")
        self.start("beat")
        self.wait_ready()

    def command(self, name: str) -> tuple[list[str], dict]:
        env, py = self.env(), sys.executable
        if name == "redis":
            return [
                shutil.which("redis-server") or "redis-server", "--port", str(self.redis_port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            ], env  # fmt: skip
        if name == "simulator":
            return [
                py, "manage.py", "stripe_simulator", "--port", str(self.sim_port),
                "--webhook-url", f"{self.web}/webhooks/stripe/",
                "--state", str(self.rundir / "simulator.json"),
            ], env  # fmt: skip
        if name == "gunicorn":
            env.update(
                GUNICORN_BIND=f"127.0.0.1:{self.web_port}",
                GUNICORN_WORKERS=str(self.args.gunicorn_workers),
                LOG_LEVEL="WARNING",  # the access log has a line per request already
            )
            return [
                py,
                "-m",
                "gunicorn",
                "-c",
                "config/gunicorn.py",
                "config.wsgi:application",
            ], env
        if name == "worker":
            env.update(
                WORKER_METRICS_PORT=str(self.worker_metrics_port),
                WORKER_METRICS_ADDR="127.0.0.1",
                PROMETHEUS_MULTIPROC_DIR=str(self.rundir / "worker-metrics"),
            )
            return [
                py, "-m", "celery", "-A", "config", "-q", "worker", "--pool", "prefork",
                "--concurrency", "2", "--without-mingle", "--without-gossip",
            ], env  # fmt: skip
        if name == "beat":
            return [
                py, "-m", "celery", "-A", "config", "-q", "beat",
                "--schedule", str(self.rundir / "beat-schedule"),
            ], env  # fmt: skip
        raise ValueError(name)

    def start(self, name: str) -> Proc:
        cmd, env = self.command(name)
        proc = Proc(name, cmd, env, self.rundir).start()
        self.procs[name] = proc
        return proc

    def start_redis(self):
        self.start("redis")
        if wait_until(self.redis_up, 15) is None:
            raise RuntimeError("redis-server did not start:\n" + self.procs["redis"].tail())

    def redis_up(self) -> bool:
        import redis

        return bool(redis.Redis(port=self.redis_port, socket_timeout=1).ping())

    def web_ready(self) -> bool:
        return httpx.get(f"{self.web}/readyz", timeout=2).status_code == 200

    def sim_up(self) -> bool:
        return httpx.get(f"{self.sim}/_simulator/webhooks", timeout=2).status_code == 200

    def worker_metrics(self) -> str:
        url = f"http://127.0.0.1:{self.worker_metrics_port}/metrics"
        return httpx.get(url, timeout=2).text

    def worker_ran_a_task(self) -> bool:
        return any(
            float(v) > 0
            for v in re.findall(r'^shop_celery_tasks_total\{[^}]*outcome="success"[^}]*\} (\S+)$',
                                self.worker_metrics(), re.MULTILINE)
        )  # fmt: skip

    def wait_ready(self):
        for what, check in (
            ("simulator", self.sim_up),
            ("gunicorn", self.web_ready),
            ("worker", self.worker_ran_a_task),
        ):
            if wait_until(check, 90) is None:
                raise RuntimeError(f"{what} did not start:\n" + self.procs[what].tail())

    def send_task(self, name: str, **kwargs) -> None:
        """Queue a task through the stack's broker, as beat or an operator would."""
        from celery import Celery

        client = Celery(broker=f"redis://127.0.0.1:{self.redis_port}/1")
        try:
            client.send_task(name, kwargs=kwargs)
        finally:
            client.close()

    def teardown(self):
        for name in ("beat", "worker", "gunicorn", "simulator", "redis"):
            proc = self.procs.get(name)
            if proc is not None:
                with contextlib.suppress(Exception):  # keep tearing down the rest
                    proc.stop()
        from django.db import connections

        connections.close_all()
        if self.database_url and not self.args.keep:
            db.drop_database(self.server_url, self.dbname)
        if not self.args.keep:
            shutil.rmtree(self.rundir, ignore_errors=True)


# --- load ------------------------------------------------------------------------------


@dataclass
class Record:
    started: float
    phase: str
    kind: str
    status: int | str


class Load:
    """Client threads: checkout, then confirm at the simulator like the browser's card form."""

    def __init__(self, stack: Stack, clients: int):
        self.stack = stack
        self.records: list[Record] = []
        self.phase = "setup"
        self.running = threading.Event()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._busy = 0
        self._idle = threading.Condition(self._lock)
        self.threads = [
            threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(clients)
        ]
        for thread in self.threads:
            thread.start()

    def pause(self, timeout: float = 60.0) -> None:
        """Stop sending and wait for the requests in flight."""
        self.running.clear()
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout)

    def resume(self, phase: str) -> None:
        self.phase = phase
        self.running.set()

    def stop(self) -> None:
        self.stopping.set()
        self.running.set()
        for thread in self.threads:
            thread.join(30)

    def _record(self, started, kind, status):
        with self._lock:
            self.records.append(Record(started, self.phase, kind, status))

    def _call(self, kind, func):
        started = time.monotonic()
        try:
            response = func()
            status = response.status_code
        except httpx.TimeoutException:
            response, status = None, "timeout"
        except httpx.HTTPError as exc:
            response, status = None, f"transport:{type(exc).__name__}"
        self._record(started, kind, status)
        return response

    def _client(self, index: int) -> None:
        rng = random.Random(index)  # noqa: S311 - load shape, not security
        token = self.stack.tokens[index]
        auth = {"Authorization": f"Bearer {token}"}
        with (
            httpx.Client(base_url=self.stack.web, timeout=30) as web,
            httpx.Client(base_url=self.stack.sim, timeout=30) as sim,
        ):
            while not self.stopping.is_set():
                self.running.wait()
                if self.stopping.is_set():
                    return
                with self._lock:
                    self._busy += 1
                try:
                    self._order(rng, web, sim, auth)
                finally:
                    with self._idle:
                        self._busy -= 1
                        self._idle.notify_all()

    def _order(self, rng, web, sim, auth) -> None:
        lines = rng.sample(self.stack.products, rng.randint(1, 3))
        body = {"items": [{"product_id": p, "quantity": rng.randint(1, 2)} for p in lines]}
        headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
        response = self._call(
            "checkout", lambda: web.post("/api/v1/orders/checkout", json=body, headers=headers)
        )
        if response is None or response.status_code not in (200, 201):
            time.sleep(0.05)  # an outage: do not spin
            return
        order = response.json()
        if rng.random() < 0.1:
            return  # abandoned: left to expire
        if not order.get("payment") or not order["payment"].get("client_secret"):
            # Stripe was unreachable at checkout: the customer presses "pay" again.
            response = self._call(
                "pay", lambda: web.post(f"/api/v1/orders/{order['id']}/pay", headers=auth)
            )
            if response is None or response.status_code != 200:
                return
            order = response.json()
            if not order.get("payment") or not order["payment"].get("client_secret"):
                return
        payment = order["payment"]
        card = "pm_card_chargeDeclined" if rng.random() < 0.1 else "pm_card_visa"
        self._call(
            "confirm",
            lambda: sim.post(
                f"/v1/payment_intents/{payment['payment_intent_id']}/confirm",
                data={"payment_method": card, "client_secret": payment["client_secret"]},
                headers={"Authorization": f"Bearer {PUBLISHABLE_KEY}"},
            ),
        )


# --- invariants ------------------------------------------------------------------------


def payment_intents(stack: Stack) -> list[dict]:
    """Every PaymentIntent at the simulator, with its latest charge."""
    items, after = [], None
    with httpx.Client(base_url=stack.sim, timeout=30) as client:
        while True:
            params = {"limit": 100, "expand[]": "data.latest_charge"}
            if after:
                params["starting_after"] = after
            page = client.get(
                "/v1/payment_intents",
                params=params,
                headers={"Authorization": f"Bearer {SECRET_KEY_STRIPE}"},
            )
            page.raise_for_status()
            data = page.json()
            items += data["data"]
            if not data["has_more"]:
                return items
            after = data["data"][-1]["id"]


def check_invariants(stack: Stack) -> dict:
    from django.db import connection

    from orders.models import Order
    from orders.selectors import stock_discrepancies

    connection.close()  # a fresh connection: a fault may have killed the last one
    stock = stock_discrepancies()
    intents = payment_intents(stack)
    orders = {str(pk): (status, total) for pk, status, total in
              Order.objects.values_list("pk", "status", "total")}  # fmt: skip
    succeeded: dict[str, list[dict]] = {}
    for pi in intents:
        if pi["status"] == "succeeded":
            succeeded.setdefault(pi["metadata"].get("order_id", ""), []).append(pi)
    unpaid = [
        pi["id"]
        for order_id, pis in succeeded.items()
        for pi in pis
        if orders.get(order_id, (None,))[0] not in PAID_LIKE
    ]
    paid_without = [o for o, (status, _) in orders.items() if status in PAID_LIKE
                    and o not in succeeded]  # fmt: skip
    mismatched = [
        pi["id"]
        for pi in intents
        if pi["metadata"].get("order_id") in orders
        and pi["amount"] != int(Decimal(orders[pi["metadata"]["order_id"]][1]) * 100)
    ]

    def kept(pi):
        charge = pi.get("latest_charge") or {}
        return not isinstance(charge, dict) or charge.get("amount_refunded", 0) < pi["amount"]

    twice = [o for o, pis in succeeded.items() if sum(1 for pi in pis if kept(pi)) > 1]
    result = {
        "stock_discrepancies": len(stock),
        "succeeded_without_paid_order": len(unpaid),
        "paid_without_succeeded_intent": len(paid_without),
        "amount_mismatch": len(mismatched),
        "charged_twice": len(twice),
        "payment_intents": len(intents),
        "orders": len(orders),
        "examples": {
            "stock": stock[:3],
            "succeeded_without_paid_order": unpaid[:5],
            "paid_without_succeeded_intent": paid_without[:5],
            "amount_mismatch": mismatched[:5],
            "charged_twice": twice[:5],
        },
    }
    result["ok"] = not any(
        result[k]
        for k in (
            "stock_discrepancies",
            "succeeded_without_paid_order",
            "paid_without_succeeded_intent",
            "amount_mismatch",
            "charged_twice",
        )
    )
    return result


def late_payments_since(since) -> dict:
    from audit.actions import Action
    from audit.models import AuditEvent

    events = AuditEvent.objects.filter(occurred_at__gte=since)
    return {
        "paid_late": events.filter(action=Action.ORDER_PAID_LATE).count(),
        "refunded": events.filter(action=Action.ORDER_REFUNDED).count(),
    }


def email_outbox() -> dict:
    """The order email outbox at the end: what the faults left unsent (a lost broker
    message is sent again when its lease ends, see orders.emails.LEASE)."""
    from django.db import connection

    from orders.selectors import email_outbox as outbox

    connection.close()
    return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in outbox().items()}


def orders_paid(order_ids) -> bool:
    from django.db import connection

    from orders.models import Order

    connection.close()
    statuses = Order.objects.filter(pk__in=list(order_ids)).values_list("status", flat=True)
    return all(status in PAID_LIKE for status in statuses)


def succeeded_order_ids(stack: Stack) -> set[str]:
    return {
        pi["metadata"]["order_id"]
        for pi in payment_intents(stack)
        if pi["status"] == "succeeded" and pi["metadata"].get("order_id")
    }


# --- the matrix --------------------------------------------------------------------------


@dataclass
class Phase:
    fault: str
    started: float = 0.0
    fault_end: float = 0.0
    ended: float = 0.0
    component_recovery: float | None = 0.0
    notes: list[str] = field(default_factory=list)


class Matrix:
    def __init__(self, args):
        self.args = args
        self.stack = Stack(args)
        self.rows: list[dict] = []

    def run(self) -> int:
        stack = self.stack
        print(f"Starting the stack (run dir {stack.rundir}) ...", flush=True)
        stack.setup()
        print(
            f"  web {stack.web}, simulator {stack.sim}, redis :{stack.redis_port}, "
            f"worker metrics :{stack.worker_metrics_port}, database {stack.dbname}",
            flush=True,
        )
        self.load = Load(stack, self.args.clients)
        try:
            for fault in self.args.faults:
                print(f"  {fault:<22} ...", end="", flush=True)
                row = self.run_phase(fault)
                self.rows.append(row)
                print(f" {self.summary(row)}", flush=True)
        finally:
            self.load.stop()
        self.metrics = self.collect_metrics()
        self.outbox = email_outbox()
        return 0 if all(r["recovered"] and r["invariants"]["ok"] for r in self.rows) else 1

    def run_phase(self, fault: str) -> dict:
        a = self.args
        from django.utils import timezone

        since = timezone.now()
        phase = Phase(fault, started=time.monotonic())
        self.load.resume(fault)
        time.sleep(a.phase_seconds / 2)
        try:
            getattr(self, f"fault_{fault}")(phase)
        except Exception as exc:
            traceback.print_exc()
            phase.notes.append(f"fault injection failed: {exc!r}")
            phase.component_recovery = None
        if not phase.fault_end:
            phase.fault_end = time.monotonic()
        request_recovery = self.wait_for_requests(phase)
        time.sleep(a.phase_seconds / 2)
        self.load.pause()
        phase.ended = time.monotonic()
        invariants, settle = self.settle()
        records = [r for r in self.load.records if r.phase == fault]
        recovered = None
        if request_recovery is not None and phase.component_recovery is not None:
            recovered = max(request_recovery, phase.component_recovery)
        return {
            "fault": fault,
            "requests": len(records),
            "by_kind": {
                kind: dict(Counter(str(r.status) for r in records if r.kind == kind))
                for kind in ("checkout", "pay", "confirm")
            },
            "failures": dict(
                Counter(
                    str(r.status)
                    for r in records
                    if not (isinstance(r.status, int) and r.status < 400)
                    and (r.kind, r.status) not in EXPECTED
                )
            ),
            "recovered": recovered is not None,
            "recovered_s": None if recovered is None else round(recovered, 1),
            "settled_s": None if settle is None else round(settle, 1),
            "invariants": invariants,
            "late": late_payments_since(since),
            "seconds": round(phase.ended - phase.started, 1),
            "notes": phase.notes,
        }

    def wait_for_requests(self, phase: Phase) -> float | None:
        """Wait until requests succeed again (see request_recovery), at most
        --recovery-timeout after the fault's end."""
        deadline = phase.fault_end + self.args.recovery_timeout
        while time.monotonic() < deadline:
            time.sleep(0.5)
            records = [r for r in self.load.records if r.phase == phase.fault]
            recovery = request_recovery(records, phase.fault_end, time.monotonic())
            if recovery is not None:
                return recovery
        return None

    def settle(self) -> tuple[dict, float | None]:
        """Load paused: check the invariants until they hold (webhook retries and
        reconciliation may still be catching up), at most --settle-timeout."""
        started = time.monotonic()
        while True:
            checked = time.monotonic()
            try:
                result = check_invariants(self.stack)
            except Exception as exc:
                result = {"ok": False, "error": repr(exc)}
            if result["ok"]:
                return result, checked - started
            if time.monotonic() - started > self.args.settle_timeout:
                return result, None
            time.sleep(1.0)

    # The faults. Each sets phase.fault_end (when the fault is over) and
    # phase.component_recovery (seconds after that until the part hit works again).

    def fault_baseline(self, phase: Phase) -> None:
        time.sleep(self.args.phase_seconds)

    def fault_kill_gunicorn_worker(self, phase: Phase) -> None:
        master = self.stack.procs["gunicorn"].pid
        workers = children_of(master)
        if not workers:
            raise RuntimeError("no gunicorn worker found")
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        phase.notes.append(f"killed gunicorn worker {victim}")
        phase.fault_end = time.monotonic()
        phase.component_recovery = wait_until(
            lambda: (
                len([p for p in children_of(master) if p != victim]) >= self.args.gunicorn_workers
            ),
            self.args.recovery_timeout,
        )

    def fault_kill_celery_worker(self, phase: Phase) -> None:
        stack = self.stack
        stack.procs["worker"].kill()
        phase.notes.append("worker and pool killed; a supervisor restarts it after 5 s")
        time.sleep(5)
        stack.start("worker")
        phase.fault_end = time.monotonic()
        phase.component_recovery = wait_until(stack.worker_ran_a_task, self.args.recovery_timeout)

    def fault_pg_terminate(self, phase: Phase) -> None:
        from django.db import connection

        connection.close()
        with psycopg.connect(self.stack.conninfo, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.stack.dbname,),
            ).fetchone()[0]
        phase.notes.append(f"terminated {killed} connections")
        phase.fault_end = time.monotonic()
        phase.component_recovery = wait_until(self.stack.web_ready, self.args.recovery_timeout)

    def fault_redis_down(self, phase: Phase) -> None:
        stack = self.stack
        stack.procs["redis"].stop()
        time.sleep(self.args.outage_seconds)
        stack.start_redis()
        phase.fault_end = time.monotonic()
        phase.component_recovery = wait_until(stack.web_ready, self.args.recovery_timeout)

    def fault_webhooks_held(self, phase: Phase) -> None:
        stack = self.stack
        httpx.post(f"{stack.sim}/_simulator/webhooks", data={"hold": "true"}, timeout=10)
        # Past the reservation: orders paid while their webhooks wait now fall due, and the
        # expiry job runs (as beat does every minute) before the webhooks come.
        time.sleep(self.args.ttl + 2)
        stack.send_task("orders.tasks.expire_orders")
        time.sleep(2)
        waiting = succeeded_order_ids(stack)
        httpx.post(f"{stack.sim}/_simulator/webhooks", data={"hold": "false"}, timeout=10)
        phase.notes.append(f"held {self.args.ttl + 4} s, expiry run before the release")
        phase.fault_end = time.monotonic()
        phase.component_recovery = wait_until(
            lambda: orders_paid(waiting), self.args.recovery_timeout, interval=0.5
        )

    def fault_webhooks_lost(self, phase: Phase) -> None:
        stack = self.stack
        before = succeeded_order_ids(stack)
        httpx.post(f"{stack.sim}/_simulator/webhooks", data={"enabled": "false"}, timeout=10)
        time.sleep(self.args.outage_seconds)
        httpx.post(f"{stack.sim}/_simulator/webhooks", data={"enabled": "true"}, timeout=10)
        lost = succeeded_order_ids(stack) - before
        # Reconciliation finds them: run it now, as its beat schedule would later.
        stack.send_task("payments.tasks.reconcile_payments", older_than_seconds=0)
        phase.notes.append(f"{len(lost)} payments' webhooks lost; reconciliation queued")
        phase.fault_end = time.monotonic()
        phase.component_recovery = wait_until(
            lambda: orders_paid(lost), self.args.recovery_timeout, interval=0.5
        )

    def fault_simulator_restart(self, phase: Phase) -> None:
        stack = self.stack
        known = payment_intents(stack)
        stack.procs["simulator"].stop()
        time.sleep(2)
        stack.start("simulator")
        phase.fault_end = time.monotonic()
        phase.component_recovery = wait_until(stack.sim_up, self.args.recovery_timeout)
        after = {pi["id"]: pi["status"] for pi in payment_intents(stack)}
        forgotten = [pi["id"] for pi in known if pi["id"] not in after]
        phase.notes.append(f"{len(known)} PaymentIntents before, {len(forgotten)} forgotten")
        if forgotten:
            phase.component_recovery = None

    # reporting

    def collect_metrics(self) -> dict:
        wanted = re.compile(
            r"^(shop_(celery_tasks|order_emails|reservations_expired|payment_reconciliation_"
            r"(runs|fixes)|webhook_events|checkouts)_total)(\{[^}]*\})? (\S+)$",
            re.MULTILINE,
        )
        out = {}
        for name, fetch in (
            ("worker", self.stack.worker_metrics),
            ("web", lambda: httpx.get(f"{self.stack.web}/metrics", timeout=5).text),
        ):
            try:
                body = fetch()
            except httpx.HTTPError as exc:
                out[name] = {"error": repr(exc)}
                continue
            out[name] = {
                f"{m.group(1)}{m.group(4) or ''}": float(m.group(5))
                for m in wanted.finditer(body)
                if float(m.group(5))
            }
        return out

    @staticmethod
    def summary(row: dict) -> str:
        rec = f"{row['recovered_s']}s" if row["recovered"] else "NO"
        inv = "ok" if row["invariants"]["ok"] else "BROKEN"
        failures = row["failures"] or "-"
        return f"{row['requests']} requests, failures {failures}, recovered {rec}, invariants {inv}"


def _failed(r: Record) -> bool:
    if isinstance(r.status, int) and r.status < 400:
        return False
    return (r.kind, r.status) not in EXPECTED


def request_recovery(
    records: list[Record], fault_end: float, now: float, steady: float = 2.0
) -> float | None:
    """Seconds from the fault's end to the start of its last failed request (0 when none
    failed after it), once `steady` seconds have passed since then with successful
    requests and no failure; None while that has not happened yet."""
    last_failure = max((r.started for r in records if _failed(r)), default=fault_end)
    succeeded_since = any(r.started > last_failure and not _failed(r) for r in records)
    if succeeded_since and now - max(last_failure, fault_end) >= steady:
        return max(0.0, last_failure - fault_end)
    return None


def format_table(rows: list[dict]) -> str:
    header = (
        "fault",
        "requests",
        "failures by status",
        "recovered",
        "settled",
        "invariants",
        "late",
    )
    lines = []
    for r in rows:
        inv = r["invariants"]
        if inv.get("ok"):
            inv_text = "ok"
        elif "error" in inv:
            inv_text = "check failed"
        else:
            broken = [k for k in ("stock_discrepancies", "succeeded_without_paid_order",
                                  "paid_without_succeeded_intent", "amount_mismatch",
                                  "charged_twice") if inv.get(k)]  # fmt: skip
            inv_text = "BROKEN " + ",".join(f"{k}={inv[k]}" for k in broken)
        failures = " ".join(f"{k}x{v}" for k, v in sorted(r["failures"].items())) or "-"
        late = r["late"]
        lines.append(
            (
                r["fault"],
                str(r["requests"]),
                failures,
                f"yes {r['recovered_s']}s" if r["recovered"] else "NO",
                "-" if r["settled_s"] is None else f"{r['settled_s']}s",
                inv_text,
                f"paid_late={late['paid_late']} refunded={late['refunded']}",
            )
        )
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*row) for row in lines]
    return "\n".join(out)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    matrix = Matrix(args)
    status, error = 1, None
    started = time.time()
    try:
        status = matrix.run()
    except KeyboardInterrupt:
        error = "interrupted"
    except Exception as exc:
        traceback.print_exc()
        error = repr(exc)
        for proc in matrix.stack.procs.values():
            print(f"--- {proc.name} log tail ---\n{proc.tail()}", file=sys.stderr)
    finally:
        matrix.stack.teardown()
    print()
    print(format_table(matrix.rows))
    print("\n(failures: non-2xx answers and transport errors; declined cards (402) and "
          "sold-out checkouts (409) are answers as designed and not counted)")  # fmt: skip
    if getattr(matrix, "outbox", None):
        print(f"Email outbox at the end: {matrix.outbox}")
    result = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "git": _git_head(),
        "args": {k: v for k, v in vars(args).items()},
        "rows": matrix.rows,
        "metrics": getattr(matrix, "metrics", {}),
        "email_outbox": getattr(matrix, "outbox", {}),
        "error": error,
        "exit_status": status if error is None else 1,
    }
    out = Path(args.out) if args.out else RESULTS / time.strftime("faults-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"Results: {out}")
    return result["exit_status"]


def _git_head() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, read-only
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
