"""How cost grows with the work: `python -m bench.growth [--small]`.

One table: for each number of orders already in the database (10^3, 10^5, 10^6), the
HTTP checkout at carts of 1, 10 and 50 lines, a customer's order list (page 1) and one
order's detail, each measured closed-loop at `--concurrency` clients over HTTP under
gunicorn (as bench.run's `http` arm): requests per second, p50 and p95 latency, and
gunicorn's CPU per request.

Setup: a fresh database `shop_growth_<pid>` on the server of DATABASE_URL (dropped
afterwards unless `--keep`), 1,000 products (10^7 units each), 1,000 customers, the
Stripe simulator and gunicorn with production settings. The orders already there are
inserted in SQL before each level, spread evenly over the customers (so each
customer's list grows too: 1, 100, 1,000 orders) and over the past, each with one item,
cancelled or expired (they hold no stock, so the stock invariants are unaffected), then
the tables are analysed, as autovacuum would. The clients are the first customers. The
invariants are checked after each level. `--small` (development): 10^2 and 10^3 orders,
2-second cells.
"""

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path

import psycopg

from bench import db, http_arm, invariants
from bench.common import Scenario

RESULTS = Path(__file__).resolve().parent / "results"
CUSTOMERS = 1000
PRODUCTS = 1000
BATCH = 100_000

SEED_ORDERS = """
WITH owners AS (
    SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM shop_user
    WHERE email LIKE 'growth-%%'
), new AS (
    INSERT INTO orders_order (id, user_id, status, currency, subtotal, total,
        idempotency_key, request_fingerprint, expires_at, restocked, needs_review,
        review_reason, created_at, updated_at)
    SELECT gen_random_uuid(), owners.ids[1 + g %% owners.n],
        CASE WHEN g %% 2 = 0 THEN 'cancelled' ELSE 'expired' END, 'usd', %(price)s,
        %(price)s, NULL, '', now() - g * interval '1 second' + interval '15 minutes', false,
        false, '', now() - g * interval '1 second', now() - g * interval '1 second'
    FROM generate_series(%(start)s::int, %(stop)s::int) AS g, owners
    RETURNING id
)
INSERT INTO orders_orderitem (order_id, product_id, sku, name, unit_price, quantity,
    line_total)
SELECT new.id, %(product)s, %(sku)s, %(name)s, %(price)s, 1, %(price)s FROM new
"""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__.split("\n")[0])
    p.add_argument("--small", action="store_true", help="10^2 and 10^3 orders, 2 s cells")
    p.add_argument("--levels", help="orders in the database, e.g. 1000,100000,1000000")
    p.add_argument("--lines", default="1,10,50", help="cart sizes of the checkout cells")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--duration", type=float, help="seconds measured per cell (20; small 2)")
    p.add_argument("--warmup", type=float, help="seconds before measuring (2; small 0.5)")
    p.add_argument("--gunicorn", default="sync:6,cma60", help="as bench.run's --gunicorn")
    p.add_argument("--keep", action="store_true", help="keep the database")
    p.add_argument("--out", help="result file (default bench/results/growth-<time>.json)")
    args = p.parse_args(argv)
    default_levels = "100,1000" if args.small else "1000,100000,1000000"
    args.levels = [int(n) for n in (args.levels or default_levels).split(",")]
    args.lines = [int(n) for n in args.lines.split(",")]
    if args.duration is None:
        args.duration = 2.0 if args.small else 20.0
    if args.warmup is None:
        args.warmup = 0.5 if args.small else 2.0
    return args


def seed_orders(conn: psycopg.Connection, *, have: int, want: int, product: tuple) -> None:
    """Insert orders numbered `have`+1 .. `want` (one item each), in batches."""
    pid, sku, name, price = product
    for start in range(have + 1, want + 1, BATCH):
        stop = min(start + BATCH - 1, want)
        with conn.transaction():
            conn.execute(
                SEED_ORDERS,
                {
                    "start": start,
                    "stop": stop,
                    "product": pid,
                    "sku": sku,
                    "name": name,
                    "price": price,
                },
            )
    conn.execute("ANALYZE orders_order")
    conn.execute("ANALYZE orders_orderitem")


def newest_order_of(conn: psycopg.Connection, user_id: int) -> str:
    row = conn.execute(
        "SELECT id FROM orders_order WHERE user_id = %s ORDER BY created_at DESC LIMIT 1",
        (user_id,),
    ).fetchone()
    return str(row[0])


class Growth:
    def __init__(self, args):
        self.args = args
        self.server_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop")
        self.dbname = f"shop_growth_{os.getpid()}"
        self.rows: list[dict] = []
        self.failures: list[str] = []
        self.procs = []

    def setup(self):
        self.database_url = db.create_database(self.server_url, self.dbname)
        self.conninfo = db.conninfo(self.database_url)
        secret = {
            "SECRET_KEY": secrets.token_urlsafe(40),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(40),
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
            "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        }
        env = http_arm.child_env(database_url=self.database_url, stripe_api_base="", secrets=secret)
        sim, stripe_url = http_arm.start_simulator(env)
        self.procs.append(sim)
        env["STRIPE_API_BASE"] = stripe_url
        os.environ.update(env)
        os.environ["CONN_MAX_AGE"] = "0"
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        self.products = tuple(
            db.seed_products(prefix="GROW", count=PRODUCTS, stock=db.SPREAD_STOCK)
        )
        (archived,) = db.seed_products(prefix="ARCHIVE", count=1, stock=0)
        customers = db.seed_users(prefix="growth", count=CUSTOMERS)
        clients = customers[: self.args.concurrency]
        self.client_ids = [u.pk for u in clients]
        self.tokens = db.access_tokens(clients)
        connection.close()
        with psycopg.connect(self.conninfo) as conn:
            self.archived = conn.execute(
                "SELECT id, sku, name, price FROM shop_product WHERE id = %s", (archived,)
            ).fetchone()
        self.server = http_arm.Server(http_arm.GunicornConfig.parse(self.args.gunicorn), env)

    def cell(self, level: int, endpoint: str, **kw) -> None:
        a = self.args
        label = f"{level:>9} orders  {endpoint:<18}"
        print(f"  {label} ...", end="", flush=True)
        result = http_arm.run(
            server=self.server,
            tokens=self.tokens,
            concurrency=a.concurrency,
            duration=a.duration,
            warmup=a.warmup,
            **kw,
        )
        bad = {k: v for k, v in result["errors"].items()}
        if bad:
            self.failures.append(f"{label}: errors {bad}")
        row = {
            "orders": level,
            "endpoint": endpoint,
            **{
                k: result.get(k)
                for k in (
                    "checkouts_per_s",
                    "p50_ms",
                    "p95_ms",
                    "p99_ms",
                    "server_cpu_ms_per_checkout",
                    "queries_per_checkout",
                    "errors",
                    "placed_total",
                )
            },
        }
        self.rows.append(row)
        print(f" {row['checkouts_per_s']:>8} /s  p95 {row['p95_ms']} ms")

    def run(self):
        a = self.args
        print(
            f"growth: database {self.dbname}, levels {a.levels}, carts {a.lines}, "
            f"{a.concurrency} clients, {a.duration:.0f}s per cell"
        )
        self.setup()
        http_arm.run(  # warm every worker up
            server=self.server,
            scenario=Scenario("warm-up", self.products, lines=1),
            tokens=self.tokens,
            concurrency=2 * self.server.config.workers,
            duration=1 if a.small else 5,
            warmup=0,
        )
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            have = invariants.order_count(conn)
            for level in a.levels:
                if level > have:
                    started = time.monotonic()
                    seed_orders(conn, have=have, want=level, product=self.archived)
                    print(f"  seeded {level - have} orders in {time.monotonic() - started:.0f} s")
                    have = level
                before = invariants.order_count(conn)
                placed = 0
                for lines in a.lines:
                    scenario = Scenario(f"lines{lines}", self.products, lines=lines)
                    self.cell(level, f"checkout {lines} lines", scenario=scenario)
                    placed += self.rows[-1]["placed_total"]
                # Every client reads its own orders: the list's first page and its newest.
                lists = [["/api/v1/orders"] for _ in self.client_ids]
                details = [[f"/api/v1/orders/{newest_order_of(conn, u)}"] for u in self.client_ids]
                for endpoint, paths in (("order list", lists), ("order detail", details)):
                    self.cell(level, endpoint, scenario=Scenario("get", ()), get_paths=paths)
                have = invariants.order_count(conn)
                try:
                    invariants.check(conn, use_django=True, orders_before=before, placed=placed)
                except invariants.InvariantBroken as exc:
                    self.failures.append(f"{level} orders: INVARIANT BROKEN: {exc}")

    def teardown(self):
        server = getattr(self, "server", None)
        if server is not None:
            server.stop()
        for proc in self.procs:
            proc.terminate()
            proc.wait(10)
        from django.db import connections

        connections.close_all()
        if self.args.keep:
            print(f"kept database {self.dbname}")
        else:
            db.drop_database(self.server_url, self.dbname)


def table(rows: list[dict]) -> str:
    head = (
        f"{'orders':>9}  {'endpoint':<18}{'req/s':>9}{'p50ms':>8}{'p95ms':>8}{'srvms':>7}  errors"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        fmt = lambda v, w: "-".rjust(w) if v is None else f"{v:>{w}}"  # noqa: E731
        errors = ",".join(f"{k}={v}" for k, v in sorted(r["errors"].items())) or "0"
        lines.append(
            f"{r['orders']:>9}  {r['endpoint']:<18}{fmt(r['checkouts_per_s'], 9)}"
            f"{fmt(r['p50_ms'], 8)}{fmt(r['p95_ms'], 8)}"
            f"{fmt(r['server_cpu_ms_per_checkout'], 7)}  {errors}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    growth = Growth(args)
    try:
        growth.run()
    except (Exception, KeyboardInterrupt) as exc:
        import traceback

        traceback.print_exc()
        growth.failures.append(f"aborted: {type(exc).__name__}: {exc}")
    finally:
        growth.teardown()
    result = {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "argv": sys.argv[1:],
        "gunicorn": args.gunicorn,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "rows": growth.rows,
        "failures": growth.failures,
    }
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if args.out else RESULTS / f"growth-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    print()
    print(table(growth.rows))
    if growth.failures:
        print("FAILURES:")
        print("\n".join(f"  - {f}" for f in growth.failures))
    print(f"\nresults: {out}")
    return 1 if growth.failures else 0


if __name__ == "__main__":
    sys.exit(main())
