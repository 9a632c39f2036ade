"""Where one HTTP checkout spends its CPU: `python -m bench.profile [-n 500] [--scenario hot]`.

In-process and single-threaded: the shop's WSGI application (config.wsgi, production
settings as the benchmark's gunicorn runs them) is called directly with a crafted
`POST /api/v1/orders/checkout` environ, N times after a warm-up, on a fresh database
`shop_profile_<pid>` (dropped afterwards) with the Stripe simulator in its own process.
Each component is a function wrapped to add the thread's CPU time (time.thread_time:
this thread only, so PostgreSQL's, Redis's and the simulator's work is not counted)
spent inside it, exclusive of components nested in it; "Django + DRF + middleware
(rest)" is what the request took outside every component. The table shows, per
component, the median over the N checkouts in ms and its share of the median request.

It also counts, per checkout, the SQL queries (Django's execute_wrapper; the connection
health check's `SELECT 1` bypasses it and is counted separately) and the Redis round
trips (what redis-py sends at once: a pipeline is one), so a cut can be judged by
counting as well as by time. Nothing here is a benchmark of throughput; see bench/README.md.
"""

import argparse
import inspect
import io
import json
import os
import secrets
import statistics
import sys
import time
from collections import Counter

from bench import db

# (label, dotted path of the function or method wrapped). Rows with no target present in
# the code are skipped, so the table survives refactoring of one component.
COMPONENTS = [
    ("JWT authentication (+ user query)", "config.api.authenticate_jwt"),
    ("JWT authentication (+ user query)", "core.auth.JWTAuthentication.authenticate"),
    (
        "JWT authentication (+ user query)",
        "rest_framework_simplejwt.authentication.JWTAuthentication.authenticate",
    ),
    ("throttling", "rest_framework.views.APIView.check_throttles"),
    ("input parsing + validation", "orders.serializers.CheckoutSerializer.is_valid"),
    ("place_order() transaction", "orders.checkout._place"),
    ("Stripe call, our side (SDK + HTTP client)", "payments.gateway.create_payment_intent"),
    ("start_payment transaction", "payments.services._store_payment_intent"),
    ("response serializer", "orders.serializers.OrderSerializer.to_representation"),
    ("response serializer", "orders.serializers.PlacedOrderSerializer.to_representation"),
    ("JSON rendering", "rest_framework.renderers.JSONRenderer.render"),
]
REST = "Django + DRF + middleware (rest)"
CHECKOUT_PATH = "/api/v1/orders/checkout"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    p.add_argument("-n", type=int, default=500, help="checkouts measured (500)")
    p.add_argument("--warmup", type=int, default=50, help="checkouts before measuring (50)")
    p.add_argument("--scenario", choices=("hot", "spread"), default="hot")
    p.add_argument(
        "--log-level", default="WARNING", help="LOG_LEVEL (WARNING as the benchmark; INFO)"
    )
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--keep", action="store_true", help="keep the database")
    return p.parse_args(argv)


class Clock:
    """Exclusive thread-CPU time per component for the request being measured."""

    def __init__(self):
        self.stack: list[list] = []  # [label, started_ns, children_ns]
        self.spent: Counter = Counter()

    def wrap(self, label: str, fn):
        clock = self

        def timed(*args, **kwargs):
            frame = [label, time.thread_time_ns(), 0]
            clock.stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                clock.stack.pop()
                took = time.thread_time_ns() - frame[1]
                clock.spent[label] += took - frame[2]
                if clock.stack:
                    clock.stack[-1][2] += took

        timed.__wrapped__ = fn
        return timed


def _resolve(path: str):
    """(owner, attribute name) of a dotted path to a function or a class's method."""
    import importlib

    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:-1]:
                owner = getattr(owner, name)
        except AttributeError:
            return None
        return (owner, parts[-1]) if hasattr(owner, parts[-1]) else None
    return None


def instrument(clock: Clock) -> list[str]:
    """Wrap every component present in the code; returns the labels wrapped."""
    labels = []
    for label, path in COMPONENTS:
        found = _resolve(path)
        if found is None:
            continue
        owner, name = found
        setattr(owner, name, clock.wrap(label, inspect.getattr_static(owner, name)))
        if label not in labels:
            labels.append(label)
    return labels


class Counts:
    """SQL queries, health-check pings and Redis commands during one request."""

    def __init__(self):
        self.queries = self.pings = self.redis = 0

    def install(self):
        import redis.connection
        from django.db.backends.postgresql.base import DatabaseWrapper

        counts = self
        send = redis.connection.AbstractConnection.send_packed_command
        usable = DatabaseWrapper.is_usable

        def send_packed_command(conn, command, check_health=True):
            counts.redis += 1
            return send(conn, command, check_health)

        def is_usable(wrapper):
            counts.pings += 1
            return usable(wrapper)

        redis.connection.AbstractConnection.send_packed_command = send_packed_command
        DatabaseWrapper.is_usable = is_usable

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def _environ(body: bytes, token: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": CHECKOUT_PATH,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def profile(args) -> dict:
    import random

    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from bench.common import Scenario

    if args.scenario == "hot":
        scenario = Scenario("hot", tuple(db.seed_products(prefix="HOT", count=1, stock=10**9)))
    else:
        scenario = Scenario("spread", tuple(db.seed_products(prefix="SP", count=200, stock=10**7)))
    (user,) = db.seed_users(prefix="profile", count=1)
    (token,) = db.access_tokens([user])
    connection.close()

    from config.wsgi import application

    clock, counts = Clock(), Counts()
    labels = instrument(clock)
    counts.install()
    rng = random.Random(0)  # noqa: S311
    rows: list[dict] = []
    statuses: Counter = Counter()

    def start_response(status, headers, exc_info=None):
        statuses[status] += 1

    for i in range(args.warmup + args.n):
        lines = scenario.cart(rng)
        body = json.dumps(
            {"items": [{"product_id": pid, "quantity": q} for pid, q in lines]}
        ).encode()
        clock.spent.clear()
        counts.queries = counts.pings = counts.redis = 0
        with connection.execute_wrapper(counts):
            t0 = time.thread_time_ns()
            response = application(_environ(body, token), start_response)
            b"".join(response)
            response.close()
            total = time.thread_time_ns() - t0
        if i < args.warmup:
            continue
        row = {label: clock.spent[label] / 1e6 for label in labels}
        row[REST] = (total - sum(clock.spent.values())) / 1e6
        row["total"] = total / 1e6
        row["queries"], row["pings"], row["redis"] = counts.queries, counts.pings, counts.redis
        rows.append(row)
    connection.close()
    total = statistics.median(r["total"] for r in rows)
    table = [
        {
            "component": label,
            "ms": round(statistics.median(r[label] for r in rows), 3),
            "mean_ms": round(statistics.fmean(r[label] for r in rows), 3),
        }
        for label in [*labels, REST]
    ]
    for entry in table:
        entry["pct"] = round(100 * entry["ms"] / total, 1)
    return {
        "scenario": args.scenario,
        "n": args.n,
        "statuses": dict(statuses),
        "total_ms": round(total, 3),
        "components": table,
        "queries_per_checkout": statistics.median(r["queries"] for r in rows),
        "health_checks_per_checkout": statistics.median(r["pings"] for r in rows),
        "redis_round_trips_per_checkout": statistics.median(r["redis"] for r in rows),
    }


def render(result: dict) -> str:
    lines = [
        f"One HTTP checkout ({result['scenario']}), in-process, one thread, "
        f"N={result['n']}: medians of thread CPU time",
        "",
        f"{'component':<44}{'ms':>8}{'%':>7}",
        "-" * 59,
    ]
    for entry in result["components"]:
        lines.append(f"{entry['component']:<44}{entry['ms']:>8.3f}{entry['pct']:>7.1f}")
    lines += [
        "-" * 59,
        f"{'request (median of totals)':<44}{result['total_ms']:>8.3f}{100:>7.1f}",
        "",
        f"SQL queries per checkout: {result['queries_per_checkout']:g}"
        f" (+ {result['health_checks_per_checkout']:g} connection health check)",
        f"Redis round trips per checkout: {result['redis_round_trips_per_checkout']:g}",
        f"answers: {result['statuses']}",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    from bench import http_arm

    server_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop")
    dbname = f"shop_profile_{os.getpid()}"
    database_url = db.create_database(server_url, dbname)
    secret = {
        "SECRET_KEY": secrets.token_urlsafe(40),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(40),
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
    }
    env = http_arm.child_env(database_url=database_url, stripe_api_base="", secrets=secret)
    sim = None
    try:
        sim, stripe_url = http_arm.start_simulator(env)
        os.environ.update(env)
        # As the benchmark's gunicorn: persistent connections with health checks.
        os.environ.update(STRIPE_API_BASE=stripe_url, CONN_MAX_AGE="60", LOG_LEVEL=args.log_level)
        import django

        django.setup()
        result = profile(args)
    finally:
        if sim is not None:
            sim.terminate()
            sim.wait(10)
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept database {dbname}")
        else:
            db.drop_database(server_url, dbname)
    print(render(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
