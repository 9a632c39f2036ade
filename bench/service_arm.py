"""Arm (b): the Django service `orders.checkout.place_order()` called from N threads.

No HTTP, no DRF. Each thread has its own Django connection (persistent for the run).
With `stripe=False` the after-commit Stripe step is replaced by a no-op (orders stay
`created`); with `stripe=True` it runs as in production against the simulator that
settings.STRIPE_API_BASE points at (a PaymentIntent per order, then `start_payment`).
Needs Django set up (the benchmark runner or pytest-django does it).

`run(..., goods=True)` is the `service_goods` arm: the same loop, each order shipped to
the client's address by a shipping method, with a percent coupon and a tax rate (the
v1.1 checkout: address and method lookups, the unlimited coupon's row share-locked and
its use recorded, the breakdown computed and stored).

`run_processes` is the same loop in N processes of one thread each (`service_procs`):
not an arm the issue defines, but it shows how much of the gap to the raw floor is the
GIL and how much is the machine's CPU.
"""

import multiprocessing
import random
from contextlib import contextmanager
from unittest import mock

from django.db import OperationalError, connection, connections

from bench.common import (
    Exhausted,
    Recorder,
    Scenario,
    merge,
    now,
    process_cpu_seconds,
    run_clients,
)


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
    # The after-commit payment step is payments' subscriber to OrderPlaced.
    with mock.patch("payments.services.start_payment_after_checkout", lambda *, order: order):
        yield


GOODS_METHOD, GOODS_COUPON = "bench-parcel", "BENCH10"


@contextmanager
def _goods(enabled: bool, *, scenario, users):
    """For the goods arm: pricing rows and an address per user (made once), and the
    scenario's products marked as shipped for the cell (the plain arms buy goods that
    need no shipping, as every checkout did before v1.1)."""
    if not enabled:
        yield {}
        return
    from decimal import Decimal

    from pricing.models import Coupon, ShippingMethod, TaxRate
    from shop.models import Address, Product

    ShippingMethod.objects.get_or_create(
        code=GOODS_METHOD,
        defaults={"name": "Parcel", "price": Decimal("4.90"), "countries": ["DE"]},
    )
    TaxRate.objects.get_or_create(country="DE", region="", defaults={"rate": Decimal("19.00")})
    Coupon.objects.get_or_create(
        code=GOODS_COUPON, defaults={"kind": Coupon.Kind.PERCENT, "value": Decimal("10")}
    )
    have = set(Address.objects.filter(user__in=users).values_list("user_id", flat=True))
    Address.objects.bulk_create(
        Address(
            user=u,
            full_name="Bench",
            line1="1 Road",
            city="Berlin",
            postal_code="10117",
            country="DE",
        )
        for u in users
        if u.pk not in have
    )
    addresses = dict(Address.objects.filter(user__in=users).values_list("user_id", "pk"))
    products = Product.objects.filter(pk__in=scenario.product_ids)
    products.update(requires_shipping=True)
    try:
        yield addresses
    finally:
        products.update(requires_shipping=False)


def timed_loop(action, *, rec: Recorder, until: float, counter, sample=None):
    """Call `action()` back to back until `until` (or until it raises Exhausted),
    recording each outcome and its query count in `rec`. The wallet arm uses it too.

    With a `sample` list, the SQL of the first call in the measured window lands in it.
    """
    from core.exceptions import ShopError
    from shop.exceptions import InsufficientStock

    with connection.execute_wrapper(counter):
        while True:
            started = now()
            if started >= until:
                break
            if sample is not None and not sample and started >= rec.window_start:
                counter.sample = []
            counter.count = 0
            try:
                action()
                outcome = "ok"
            except Exhausted:
                rec.add(started, now() - started, Exhausted.outcome, counter.count)
                break
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
            if counter.sample is not None:
                sample.extend(counter.sample)
                counter.sample = None


def _result(recorders, duration: float, *, cpu: float, elapsed: float) -> dict:
    result = merge(recorders, duration)
    result["placed_total"] = sum(r.all_ok for r in recorders)
    result["client_cpu_pct"] = round(100 * cpu / elapsed, 1)
    return result


def run(
    *,
    scenario: Scenario,
    concurrency: int,
    duration: float,
    warmup: float,
    users: list,
    stripe: bool = False,
    goods: bool = False,
    seed: int = 0,
) -> dict:
    addresses: dict = {}  # the goods arm's: filled before the clients start

    def checkout_client(index: int):
        rng = random.Random(seed * 1000 + index)  # noqa: S311
        user = users[index % len(users)]
        delivery = _delivery(addresses.get(user.pk))
        return lambda: _checkout(user=user, lines=scenario.cart(rng), delivery=delivery)

    with _stripe_step(stripe), _goods(goods, scenario=scenario, users=users) as made:
        addresses.update(made)
        result = run_threads(
            checkout_client, concurrency=concurrency, duration=duration, warmup=warmup
        )
    result["includes"] = _includes(stripe)
    if goods:
        result["includes"] += "; shipped to an address, with a shipping method, coupon and tax"
    return result


def _includes(stripe: bool) -> str:
    if stripe:
        return "place_order() incl. after-commit PaymentIntent at the simulator + start_payment"
    return "place_order() with the after-commit Stripe step disabled"


def _delivery(address_id: int | None):
    """What a checkout of the goods arm ships with (none for the plain arms)."""
    from orders.checkout import NO_DELIVERY, Delivery

    if address_id is None:
        return NO_DELIVERY
    return Delivery(
        shipping_address_id=address_id, shipping_method=GOODS_METHOD, coupon=GOODS_COUPON
    )


def _checkout(*, user, lines, delivery) -> None:
    from orders.checkout import place_order

    place_order(user=user, lines=lines, delivery=delivery)


def run_threads(client_action, *, concurrency: int, duration: float, warmup: float) -> dict:
    """`concurrency` threads, each with its own Django connection, calling the action
    `client_action(index)` returns back to back (`timed_loop`); the result of the cell,
    with the SQL of one call of client 0 in `sample_queries`."""
    recorders: list[Recorder] = []
    sample_sql: list[str] = []

    def worker(index: int, ready) -> None:
        try:
            connection.ensure_connection()
            action = client_action(index)
            measure_from, until = ready()
            rec = Recorder(measure_from, until)
            recorders.append(rec)
            timed_loop(
                action,
                rec=rec,
                until=until,
                counter=_QueryCounter(),
                sample=sample_sql if index == 0 else None,
            )
        finally:
            connections.close_all()

    cpu, elapsed = run_clients(worker, concurrency=concurrency, warmup=warmup, duration=duration)
    result = _result(recorders, duration, cpu=cpu, elapsed=elapsed)
    result["sample_queries"] = sample_sql
    return result


def run_processes(
    *,
    scenario: Scenario,
    concurrency: int,
    duration: float,
    warmup: float,
    users: list,
    stripe: bool = False,
    seed: int = 0,
) -> dict:
    """The service arm in `concurrency` processes (spawned: each sets Django up from the
    environment, as the benchmark runner left it), the Stripe step disabled unless
    `stripe` (`service_stripe_procs`: the PaymentIntent at the simulator, then
    start_payment, as gunicorn's workers run it)."""
    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Barrier(concurrency + 1), ctx.Event()
    window = ctx.Array("d", 2)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_process_client,
            args=(
                index,
                scenario,
                users[index % len(users)].pk,
                seed,
                stripe,
                (ready, go, window, results),
            ),
        )
        for index in range(concurrency)
    ]
    for proc in procs:
        proc.start()
    try:
        ready.wait(timeout=120)  # every process has Django up and a connection open
        start = now()
        window[0], window[1] = start + warmup, start + warmup + duration
        go.set()
        collected = [results.get(timeout=duration + warmup + 120) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
    elapsed = now() - start
    cpu = sum(cpu for _, cpu in collected)
    result = _result([rec for rec, _ in collected], duration, cpu=cpu, elapsed=elapsed)
    result["includes"] = _includes(stripe)
    return result


def _process_client(index, scenario, user_id, seed, stripe, sync) -> None:
    ready, go, window, results = sync
    import django

    django.setup()
    from shop.models import User

    user = User.objects.get(pk=user_id)
    ready.wait(timeout=120)
    go.wait(timeout=120)
    rec = Recorder(window[0], window[1])
    cpu0 = process_cpu_seconds()
    try:
        rng = random.Random(seed * 1000 + index)  # noqa: S311
        with _stripe_step(stripe):
            timed_loop(
                lambda: _checkout(user=user, lines=scenario.cart(rng), delivery=_delivery(None)),
                rec=rec,
                until=window[1],
                counter=_QueryCounter(),
            )
    finally:
        connections.close_all()
    results.put((rec, process_cpu_seconds() - cpu0))
