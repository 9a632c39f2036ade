"""Arm (c): the full HTTP API under gunicorn, driven by bench/loadgen.py in its own process.

Includes everything a real checkout request does: gunicorn, Django middleware, JWT
authentication (one user query), throttling, DRF parsing and validation, place_order(),
creating the PaymentIntent at the Stripe simulator after the commit (as the API does),
start_payment, and serializing the order. Webhooks are recorded by the simulator but not
delivered, so their processing does not load the server during later measurements.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import Scenario, tree_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(check, what: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting")
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {timeout} s")


BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def child_env(*, database_url: str, stripe_api_base: str, secrets: dict, **extra) -> dict:
    """Production settings (DEBUG off) for a child process, over plain HTTP on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "STRIPE_API_BASE": stripe_api_base,
            "STRIPE_MAX_NETWORK_RETRIES": "0",
            "THROTTLE_CHECKOUT": "10000000/min",
            "THROTTLE_AUTH": "10000000/min",
            "JWT_ACCESS_MINUTES": "600",
            "LOG_LEVEL": "WARNING",
            # Order e-mails are rendered and "sent" to nowhere instead of the terminal.
            "EMAIL_URL": "dummymail://",
            # As in production: Redis for the cache and throttling, and a broker, so order
            # e-mails wait in the outbox for a worker (none runs here). The bench's own
            # Redis database is emptied at the end.
            "REDIS_URL": BENCH_REDIS_URL,
            **secrets,
        }
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_simulator(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "stripe_simulator", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(
        lambda: socket.create_connection(("127.0.0.1", port), 0.2).close() or True,
        "stripe simulator",
        proc,
    )
    return proc, f"http://127.0.0.1:{port}"


@dataclass
class GunicornConfig:
    """`sync:5` (5 sync workers) or `gthread:2x4` (2 workers, 4 threads each), plus the
    connection handling: `cma60` (CONN_MAX_AGE=60, the default), `cma0`, or `pool`."""

    worker_class: str = "sync"
    workers: int = 5
    threads: int = 1
    conn: str = "cma60"

    @classmethod
    def parse(cls, text: str) -> "GunicornConfig":
        kind, _, rest = text.partition(":")
        size, _, conn = rest.partition(",")
        if kind == "gthread":
            workers, _, threads = size.partition("x")
            return cls("gthread", int(workers), int(threads or 1), conn or "cma60")
        return cls(kind, int(size or 5), 1, conn or "cma60")

    @property
    def label(self) -> str:
        size = f"{self.workers}x{self.threads}" if self.worker_class == "gthread" else self.workers
        return f"{self.worker_class}:{size},{self.conn}"


APPS = {
    # the shop: config.wsgi with checkout query counting
    "http": "bench.wsgi:application",
    # the floor without the framework: bench/wsgi_raw.py
    "http_raw": "bench.wsgi_raw:application",
}


INCLUDES = {
    "http": "HTTP+JWT+DRF, place_order(), PaymentIntent at the simulator after commit, "
    "start_payment, order serialization",
    "http_raw": "HTTP + PyJWT + the raw arm's SQL + PaymentIntent (bare urllib3 pool) + "
    "payment step in raw SQL + the same JSON, no framework",
}


class Server:
    """gunicorn serving the shop (`app="http"`) or the raw WSGI floor (`"http_raw"`),
    under the same gunicorn configuration."""

    def __init__(self, config: GunicornConfig, env: dict, app: str = "http"):
        self.config, self.app = config, app
        env = dict(env)
        if config.conn == "pool":
            env.update(DATABASE_POOL="true", DATABASE_POOL_MAX=str(max(2, config.threads)))
        else:
            env["CONN_MAX_AGE"] = config.conn.removeprefix("cma")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            "w+", prefix="bench-gunicorn-", suffix=".log"
        )
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            APPS[app],
            "-c",
            "python:bench.gunicorn_conf",
            "-b",
            f"127.0.0.1:{self.port}",
            "-k",
            config.worker_class,
            "-w",
            str(config.workers),
        ]
        if config.worker_class == "gthread":
            cmd += ["--threads", str(config.threads)]
        self.proc = subprocess.Popen(  # noqa: S603
            cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            _wait_for(
                lambda: httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200,
                "gunicorn",
                self.proc,
            )
        except RuntimeError:
            self.stop()
            raise

    def stats(self) -> dict:
        return httpx.get(f"{self.url}/__bench__/stats", timeout=10).json()

    def log_tail(self, n: int = 40) -> str:
        self._log.flush()
        self._log.seek(0)
        return "".join(self._log.readlines()[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def check_auth_endpoints(url: str, email: str, password: str) -> str:
    """Register a user and log in over the API, as a real client would; returns a token."""
    with httpx.Client(base_url=url, timeout=60) as client:
        r = client.post("/api/v1/auth/register", json={"email": email, "password": password})
        if r.status_code != 201:
            raise RuntimeError(f"register answered {r.status_code}: {r.text[:300]}")
        r = client.post("/api/v1/auth/token", json={"email": email, "password": password})
        if r.status_code != 200:
            raise RuntimeError(f"token answered {r.status_code}: {r.text[:300]}")
        return r.json()["access"]


def run(
    *,
    server: Server,
    scenario: Scenario,
    tokens: list[str],
    concurrency: int,
    duration: float,
    warmup: float,
    mode: str = "closed",
    rate: float | None = None,
    seed: int = 0,
    get_paths: list[list[str]] | None = None,
) -> dict:
    """Drive `server` with the load generator: checkouts of `scenario`'s carts, or with
    `get_paths` (one list per token) GETs of those paths."""
    spec = {
        "get_paths": get_paths,
        "url": server.url,
        "tokens": tokens,
        "scenario": scenario.to_json(),
        "concurrency": concurrency,
        "duration": duration,
        "warmup": warmup,
        "mode": mode,
        "rate": rate,
        "seed": seed,
    }
    before = server.stats()
    cpu_before = tree_cpu_seconds(server.proc.pid)
    with tempfile.TemporaryDirectory(prefix="bench-loadgen-") as tmp:
        spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec_path.write_text(json.dumps(spec))
        proc = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.loadgen", str(spec_path), str(out_path)],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
            capture_output=True,
            text=True,
            timeout=warmup + duration + 300,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed:\n{proc.stderr[-3000:]}")
        result = json.loads(out_path.read_text())
    after = server.stats()
    server_cpu = tree_cpu_seconds(server.proc.pid) - cpu_before
    requests = after["checkout_requests"] - before["checkout_requests"]
    queries = after["checkout_queries"] - before["checkout_queries"]
    result["queries_per_checkout"] = round(queries / requests, 2) if requests else None
    # gunicorn's master and workers, per checkout request (the whole run, warm-up too;
    # for GETs, per successful GET)
    served = requests if not get_paths else result["placed_total"]
    result["server_cpu_ms_per_checkout"] = round(1000 * server_cpu / served, 2) if served else None
    result["server"] = server.config.label
    result["includes"] = INCLUDES[server.app]
    return result
