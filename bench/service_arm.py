"""Arm (b): the Django service `orders.checkout.place_order()` called from N threads.

No HTTP, no DRF. Each thread has its own Django connection (persistent for the run).
With `stripe=False` the after-commit Stripe step is replaced by a no-op (orders stay
`created`); with `stripe=True` it runs as in production against the simulator that
settings.STRIPE_API_BASE points at (a PaymentIntent per order, then `start_payment`).
Needs Django set up (the benchmark runner or pytest-django does it).
"""

import random
from contextlib import contextmanager
from unittest import mock

from django.db import OperationalError, connection, connections

from bench.common import Recorder, Scenario, merge, now, run_clients


class _QueryCounter:
    def __init__(self):
        self.count = 0
        self.sample: list[str] | None = None

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        if self.sample is not None:
            self.sample.append(" ".join(sql.split()))
        return execute(sql, params, many, context)


@contextmanager
def _stripe_step(enabled: bool):
    if enabled:
        yield
        return
    with mock.patch("orders.checkout.start_payment_after_checkout", lambda *, order: order):
        yield


def run(
    *,
    scenario: Scenario,
    concurrency: int,
    duration: float,
    warmup: float,
    users: list,
    stripe: bool = False,
    seed: int = 0,
) -> dict:
    from orders.checkout import place_order
    from shop.exceptions import InsufficientStock, ShopError

    recorders: list[Recorder] = []
    sample_sql: list[str] = []

    def worker(index: int, ready) -> None:
        rng = random.Random(seed * 1000 + index)  # noqa: S311
        user = users[index % len(users)]
        counter = _QueryCounter()
        try:
            connection.ensure_connection()
            measure_from, until = ready()
            rec = Recorder(measure_from, until)
            recorders.append(rec)
            with connection.execute_wrapper(counter):
                first = index == 0
                while True:
                    started = now()
                    if started >= until:
                        break
                    if first and started >= measure_from:
                        counter.sample, first = [], False
                    counter.count = 0
                    try:
                        place_order(user=user, lines=scenario.cart(rng))
                        outcome = "ok"
                    except InsufficientStock:
                        outcome = "insufficient_stock"
                    except ShopError as exc:
                        outcome = getattr(exc, "code", type(exc).__name__)
                    except OperationalError as exc:
                        code = getattr(exc.__cause__, "sqlstate", None)
                        outcome = "deadlock" if code == "40P01" else f"OperationalError:{code}"
                    except Exception as exc:  # counted and reported, never hidden
                        outcome = type(exc).__name__
                    rec.add(started, now() - started, outcome, counter.count)
                    if counter.sample is not None and not sample_sql:
                        sample_sql.extend(counter.sample)
                        counter.sample = None
        finally:
            connections.close_all()

    with _stripe_step(stripe):
        cpu, elapsed = run_clients(
            worker, concurrency=concurrency, warmup=warmup, duration=duration
        )
    result = merge(recorders, duration)
    result["placed_total"] = sum(r.all_ok for r in recorders)
    result["client_cpu_pct"] = round(100 * cpu / elapsed, 1)
    result["sample_queries"] = sample_sql
    result["includes"] = (
        "place_order() incl. after-commit PaymentIntent at the simulator + start_payment"
        if stripe
        else "place_order() with the after-commit Stripe step disabled"
    )
    return result
