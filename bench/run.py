"""Run the checkout benchmark: `python -m bench.run [--quick] [--keep] [--arms ...]`.

Creates a fresh database `shop_bench_<pid>` on the server of DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/shop), migrates and seeds it, starts the Stripe
simulator and gunicorn (production settings), runs every arm x scenario x concurrency
on that database, checks the invariants after each, runs the sold-out scenario, prints
a table and writes bench/results/<timestamp>.json. Exit status 1 on any broken
invariant, 5xx, deadlock or failed sold-out check. See bench/README.md.
"""

import argparse
import json
import os
import platform
import secrets
import signal
import sys
import time
import traceback
from functools import partial
from pathlib import Path

import psycopg

from bench import db, invariants, report
from bench.common import Sampler, Scenario

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shop"
ARMS = (
    "raw",
    "service",
    "service_goods",
    "service_stripe",
    "service_procs",
    "service_stripe_procs",
    "http_raw",
    "http",
    "wallet_raw",
    "wallet",
)
# Arms measured only at some concurrency levels (the others are extra views of one arm).
LIMITED = {
    "service_stripe": "stripe_concurrency",
    "service_procs": "procs_concurrency",
    "service_stripe_procs": "procs_concurrency",
}


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short cells (development, < 2 min)")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    # The wallet-payment arms (wallet_raw, wallet) run when named: each cell first seeds
    # its orders to pay, which would lengthen the full run by several minutes.
    p.add_argument(
        "--arms",
        default="raw,service,service_goods,service_stripe,service_procs,service_stripe_procs,http_raw,http",
    )
    p.add_argument("--scenarios", default="hot,spread")
    p.add_argument("--concurrency", default="1,8,32")
    p.add_argument("--duration", type=float, help="seconds measured per cell (30; quick 2.5)")
    p.add_argument("--warmup", type=float, help="seconds before measuring (2; quick 0.5)")
    p.add_argument(
        "--stripe-concurrency", default="8", help="concurrency levels for the service_stripe arm"
    )
    p.add_argument(
        "--procs-concurrency", default="8", help="concurrency levels for the service_procs arm"
    )
    p.add_argument(
        "--gunicorn",
        default="sync:6,cma60",
        help="server config: sync:N or gthread:WxT, then cma60|cma0|pool",
    )
    p.add_argument(
        "--sweep",
        default="",
        help="extra server configs (;-separated) measured on the HTTP arm at 8 clients",
    )
    p.add_argument("--sweep-duration", type=float, default=10.0, help="seconds per sweep cell")
    p.add_argument(
        "--open-rate",
        type=float,
        default=0.0,
        help="also run spread in open-arrival mode at this fraction of the closed c=8 rate",
    )
    p.add_argument("--soldout-clients", type=int, default=200)
    p.add_argument("--soldout-stock", type=int, default=50)
    p.add_argument("--no-fsync", action="store_true", help="skip pg_test_fsync (--quick skips it)")
    p.add_argument("--out", help="result file (default bench/results/<time>.json)")
    args = p.parse_args(argv)
    args.arms = [a for a in args.arms.split(",") if a]
    unknown = set(args.arms) - set(ARMS)
    if unknown:
        p.error(f"unknown arms {sorted(unknown)}; choose from {ARMS}")
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.stripe_concurrency = [int(c) for c in args.stripe_concurrency.split(",") if c]
    args.procs_concurrency = [int(c) for c in args.procs_concurrency.split(",") if c]
    if args.duration is None:
        args.duration = 2.5 if args.quick else 30.0
    if args.quick:
        args.no_fsync = True  # pg_test_fsync alone takes ~20 s
    if args.warmup is None:
        args.warmup = 0.5 if args.quick else 2.0
    return args


class Bench:
    def __init__(self, args):
        self.args = args
        self.server_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
        if not self.server_url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("The benchmark needs PostgreSQL: DATABASE_URL must be postgres://...")
        self.dbname = f"shop_bench_{os.getpid()}"
        self.failures: list[str] = []
        self.cells: list[dict] = []
        self.soldout: list[dict] = []
        self.procs = []
        self.servers = []

    # --- setup -------------------------------------------------------------------------

    def setup(self):
        a = self.args
        self.database_url = db.create_database(self.server_url, self.dbname)
        self.conninfo = db.conninfo(self.database_url)
        self.secrets = {
            "SECRET_KEY": secrets.token_urlsafe(40),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(40),
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
            "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        }
        from bench import http_arm

        base_env = http_arm.child_env(
            database_url=self.database_url, stripe_api_base="", secrets=self.secrets
        )
        sim, self.stripe_url = http_arm.start_simulator(base_env)
        self.procs.append(sim)
        self.env = {**base_env, "STRIPE_API_BASE": self.stripe_url}
        os.environ.update(self.env)
        os.environ["CONN_MAX_AGE"] = "0"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        self.hot = Scenario(
            "hot", tuple(db.seed_products(prefix="HOT", count=1, stock=db.HOT_STOCK))
        )
        self.spread = Scenario(
            "spread",
            tuple(
                db.seed_products(prefix="SPREAD", count=db.SPREAD_PRODUCTS, stock=db.SPREAD_STOCK)
            ),
        )
        n_users = max(max(a.concurrency), 8)
        self.users = db.seed_users(prefix="client", count=n_users)
        self.user_ids = [u.pk for u in self.users]
        self.tokens = db.access_tokens(self.users)
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            self.server_info = db.server_settings(conn)
        self.fsync = (
            {"available": False, "reason": "skipped (--no-fsync)"}
            if a.no_fsync
            else db.pg_test_fsync(self.server_info["data_directory"])
        )

    def start_http(self, spec: str, app: str = "http"):
        from bench import http_arm

        server = http_arm.Server(http_arm.GunicornConfig.parse(spec), self.env, app)
        self.servers.append(server)
        return server

    def warm_up(self, server) -> None:
        """Every gunicorn worker's first requests are slow (imports, URL resolution):
        send checkouts for a few seconds before any measurement."""
        from bench import http_arm

        http_arm.run(
            server=server,
            scenario=self.hot,
            tokens=self.tokens,
            concurrency=2 * server.config.workers * server.config.threads,
            duration=2 if self.args.quick else 5,
            warmup=0,
        )

    # --- cells -------------------------------------------------------------------------

    def measure(
        self,
        arm: str,
        scenario: Scenario,
        concurrency: int,
        fn,
        *,
        use_django: bool,
        count=invariants.order_count,
        check=invariants.check,
        **extra,
    ) -> dict | None:
        """One cell: `fn` measured under the samplers, then `check`ed (the orders or,
        for the wallet arms, the payments `count` saw appear)."""
        a = self.args
        label = f"{arm:<21} {scenario.name:<7} c={concurrency:<3}"
        print(f"  {label} ...", end="", flush=True)
        with psycopg.connect(self.conninfo, autocommit=True) as check_conn:
            before = count(check_conn)
            try:
                with Sampler(self.conninfo, self.dbname) as sampler:
                    cell = fn(duration=a.duration, warmup=a.warmup)
                cell.update(sampler.result())
            except Exception as exc:
                traceback.print_exc()
                self.failures.append(f"{label}: {type(exc).__name__}: {exc}")
                print(" ERROR")
                return None
            cell.update(
                arm=arm,
                scenario=scenario.name,
                concurrency=concurrency,
                duration_s=a.duration,
                **extra,
            )
            try:
                cell["invariants"] = check(
                    check_conn,
                    use_django=use_django,
                    orders_before=before,
                    placed=cell["placed_total"],
                )
            except invariants.InvariantBroken as exc:
                cell["invariants"] = {"stock_ok": False, "error": str(exc)}
                self.failures.append(f"{label}: INVARIANT BROKEN: {exc}")
        bad = {
            k: v
            for k, v in cell["errors"].items()
            if k.startswith("http_5")
            or "deadlock" in k
            or k.startswith("transport")
            or k == "exhausted"  # a wallet client ran out of orders: the seed was too small
        }
        if bad or cell.get("pg_deadlocks"):
            self.failures.append(f"{label}: errors {bad}, pg deadlocks {cell.get('pg_deadlocks')}")
        self.cells.append(cell)
        print(f" {cell['checkouts_per_s']:>8} /s  p95 {cell['p95_ms']} ms  errors {cell['errors']}")
        return cell

    def run_cell(self, arm: str, scenario: Scenario, c: int, http_server=None, **kw):
        from bench import http_arm, raw_sql, service_arm

        if arm in ("wallet_raw", "wallet"):
            return self.run_wallet_cell(arm, scenario, c)
        if arm == "raw":
            fn = partial(
                raw_sql.run,
                conninfo=self.conninfo,
                scenario=scenario,
                concurrency=c,
                user_ids=self.user_ids,
            )
            return self.measure(arm, scenario, c, fn, use_django=False)
        if arm in ("service", "service_goods", "service_stripe"):
            fn = partial(
                service_arm.run,
                scenario=scenario,
                concurrency=c,
                users=self.users,
                stripe=arm == "service_stripe",
                goods=arm == "service_goods",
            )
            return self.measure(arm, scenario, c, fn, use_django=True)
        if arm in ("service_procs", "service_stripe_procs"):
            fn = partial(
                service_arm.run_processes,
                scenario=scenario,
                concurrency=c,
                users=self.users,
                stripe=arm == "service_stripe_procs",
            )
            return self.measure(arm, scenario, c, fn, use_django=True)
        server = http_server or (self.http_raw if arm == "http_raw" else self.http)
        fn = partial(
            http_arm.run, server=server, scenario=scenario, tokens=self.tokens, concurrency=c, **kw
        )
        name = arm if http_server is None else f"http[{server.config.label}]"
        return self.measure(
            name, scenario, c, fn, use_django=True, **({"mode": kw["mode"]} if "mode" in kw else {})
        )

    def run_wallet_cell(self, arm: str, scenario: Scenario, c: int):
        """Seed each client's orders to pay and its wallet (not measured), then measure."""
        from django.db import connection

        from bench import wallet_arm

        a = self.args
        queues = wallet_arm.seed(
            arm=arm,
            scenario=scenario,
            users=self.users,
            concurrency=c,
            seconds=a.warmup + a.duration,
            seed=len(self.cells),
        )
        connection.close()
        if arm == "wallet_raw":
            fn = partial(
                wallet_arm.run_raw,
                conninfo=self.conninfo,
                queues=queues,
                user_ids=self.user_ids,
                concurrency=c,
            )
        else:
            fn = partial(wallet_arm.run_service, queues=queues, users=self.users, concurrency=c)
        return self.measure(
            arm,
            scenario,
            c,
            fn,
            use_django=arm == "wallet",
            count=invariants.wallet_payments,
            check=invariants.check_wallet,
        )

    def run_soldout(self):
        """200 clients at once against 50 units over HTTP: exactly 50 orders, 150 clean 409s."""
        from django.db import connection

        from bench import http_arm

        a = self.args
        (pid,) = db.seed_products(
            prefix=f"SOLDOUT{len(self.soldout)}", count=1, stock=a.soldout_stock
        )
        connection.close()
        users = db.seed_users(prefix=f"soldout{len(self.soldout)}", count=a.soldout_clients)
        tokens = db.access_tokens(users)
        scenario = Scenario("soldout", (pid,))
        print(
            f"  sold-out: {a.soldout_clients} clients, {a.soldout_stock} in stock ...",
            end="",
            flush=True,
        )
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            before = invariants.order_count(conn)
            with Sampler(self.conninfo, self.dbname) as sampler:
                res = http_arm.run(
                    server=self.http,
                    scenario=scenario,
                    tokens=tokens,
                    concurrency=a.soldout_clients,
                    duration=0,
                    warmup=0,
                    mode="once",
                )
            res.update(sampler.result())
            orders, available, reserved = conn.execute(
                "SELECT (SELECT count(DISTINCT order_id) FROM orders_orderitem"
                " WHERE product_id = %s), available, reserved FROM shop_inventory"
                " WHERE product_id = %s",
                (pid, pid),
            ).fetchone()
            broken = None
            try:
                invariants.check(
                    conn, use_django=True, orders_before=before, placed=res["placed_total"]
                )
            except invariants.InvariantBroken as exc:
                broken = str(exc)
        errors = res["errors"]
        clean_409 = errors.get("http_409:insufficient_stock", 0)
        five = sum(v for k, v in errors.items() if k.startswith("http_5"))
        ok = (
            orders == a.soldout_stock
            and res["checkouts"] == a.soldout_stock
            and clean_409 == a.soldout_clients - a.soldout_stock
            and five == 0
            and available == 0
            and reserved == a.soldout_stock
            and broken is None
        )
        entry = {
            "arm": "http",
            "clients": a.soldout_clients,
            "stock": a.soldout_stock,
            "orders": orders,
            "clean_409": clean_409,
            "5xx": five,
            "errors": errors,
            "available_after": available,
            "reserved_after": reserved,
            "invariant_error": broken,
            "ok": ok,
            **{
                k: res[k]
                for k in (
                    "p50_ms",
                    "p95_ms",
                    "p99_ms",
                    "max_ms",
                    "generator_cpu_pct",
                    "lock_waiters_max",
                    "pg_deadlocks",
                )
            },
        }
        self.soldout.append(entry)
        print(f" {orders} orders, {clean_409} clean 409, {five} 5xx: {'OK' if ok else 'FAILED'}")
        if not ok:
            self.failures.append(f"sold-out: {entry}")

    # --- whole run ---------------------------------------------------------------------

    def run(self):
        a = self.args
        print(
            f"bench: database {self.dbname}, arms {','.join(a.arms)}, "
            f"{a.duration:.0f}s per cell (+{a.warmup:.0f}s warm-up)"
        )
        self.setup()
        self.http = self.start_http(a.gunicorn) if "http" in a.arms else None
        if self.http is not None:
            from bench import http_arm

            # Register and log in over the API once (the clients' tokens are minted directly:
            # PBKDF2 at production cost would take minutes for hundreds of users).
            http_arm.check_auth_endpoints(
                self.http.url, "probe@bench.example", secrets.token_urlsafe(16)
            )
            self.auth_checked = True
            self.warm_up(self.http)
        self.http_raw = self.start_http(a.gunicorn, "http_raw") if "http_raw" in a.arms else None
        if self.http_raw is not None:
            self.warm_up(self.http_raw)
        scenarios = {"hot": self.hot, "spread": self.spread}
        for name in a.scenarios:
            for c in a.concurrency:
                for arm in a.arms:
                    if arm in LIMITED and c not in getattr(a, LIMITED[arm]):
                        continue
                    self.run_cell(arm, scenarios[name], c)
        if a.open_rate and "http" in a.arms:
            closed = next(
                (
                    x
                    for x in self.cells
                    if x["arm"] == "http" and x["scenario"] == "spread" and x["concurrency"] == 8
                ),
                None,
            )
            if closed and closed["checkouts_per_s"]:
                rate = round(closed["checkouts_per_s"] * a.open_rate, 1)
                self.run_cell("http", self.spread, 32, mode="open", rate=rate)
        if "http" in a.arms:
            self.run_soldout()
        for spec in [s for s in a.sweep.split(";") if s]:
            server = self.start_http(spec)
            self.warm_up(server)
            duration, a.duration = a.duration, a.sweep_duration
            try:
                for name in a.scenarios:
                    self.run_cell("http", scenarios[name], 8, http_server=server)
            finally:
                a.duration = duration
                server.stop()

    def result(self) -> dict:
        return {
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "argv": sys.argv[1:],
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "cpu_model": _cpu_model(),
                "mem_gb": _mem_gb(),
            },
            "server": getattr(self, "server_info", {}),
            "fsync": getattr(self, "fsync", {}),
            "gunicorn": self.args.gunicorn,
            "auth_endpoints_checked": getattr(self, "auth_checked", False),
            "arms_include": {
                "raw": "SQL transaction only: psycopg, prepared statements, no Django",
                "service": "place_order() in threads, after-commit Stripe step disabled",
                "service_goods": "the service arm shipping to an address with a shipping "
                "method, an unlimited percent coupon (its row share-locked, its use "
                "recorded) and tax",
                "service_stripe": "place_order() in threads, PaymentIntent at the simulator "
                "after commit + start_payment",
                "service_procs": "place_order() in processes of one thread (no GIL shared), "
                "after-commit Stripe step disabled",
                "service_stripe_procs": "place_order() in processes of one thread, PaymentIntent "
                "at the simulator after commit + start_payment",
                "http_raw": "gunicorn (same configuration) + a bare WSGI callable: PyJWT, the raw "
                "arm's SQL, PaymentIntent over a bare urllib3 pool, payment step in raw SQL, "
                "the same JSON",
                "http": "gunicorn + JWT + DRF + place_order() + PaymentIntent at the simulator "
                "after commit + start_payment + order serialization",
                "wallet_raw": "paying a seeded order from the wallet: pay_order's SQL "
                "transaction only (psycopg, prepared statements, no Django)",
                "wallet": "wallets.services.pay_order() in threads, incl. payments' "
                "after-commit reaction to OrderPaid (no PaymentIntent to cancel)",
            },
            "duration_s": self.args.duration,
            "warmup_s": self.args.warmup,
            "cells": self.cells,
            "ratios": report.ratios(self.cells),
            "soldout": self.soldout,
            "failures": self.failures,
        }

    def teardown(self):
        for server in self.servers:
            server.stop()
        for proc in self.procs:
            proc.terminate()
            proc.wait(10)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may never have been set up
            pass
        _flush_bench_redis()
        if not self.args.keep:
            db.drop_database(self.server_url, self.dbname)
        else:
            print(f"kept database {self.dbname}")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _mem_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            return round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        return None


def _flush_bench_redis() -> None:
    """Drop what the web processes left in the bench's Redis database (cache, throttling)."""
    import redis

    from bench.http_arm import BENCH_REDIS_URL

    try:
        redis.Redis.from_url(BENCH_REDIS_URL, socket_timeout=2).flushdb()
    except redis.RedisError as exc:
        print(f"could not empty {BENCH_REDIS_URL}: {exc}")


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    # SIGTERM ends the run like Ctrl-C: teardown stops gunicorn and the simulator and
    # drops the database.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    bench = Bench(args)
    try:
        bench.run()
    except (Exception, KeyboardInterrupt) as exc:
        traceback.print_exc()
        bench.failures.append(f"aborted: {type(exc).__name__}: {exc}")
    finally:
        bench.teardown()
    result = bench.result()
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if args.out else RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    print()
    print(report.summary(result))
    print(f"\nresults: {out}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
