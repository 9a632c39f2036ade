"""Arm (a), the floor: checkout's transaction issued directly with psycopg, no Django.

The same work as orders.checkout._place, in the fewest round trips: lock the inventory
rows ordered by product id (one SELECT ... FOR UPDATE that also reads the products),
check stock, one set-based UPDATE, insert the order, its items (one INSERT) and all the
audit rows (one INSERT), COMMIT. Statements are prepared by psycopg after a few runs.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg
from psycopg.types.json import Jsonb

from bench.common import Exhausted, Recorder, Scenario, merge, now, run_clients

LOCK = """
SELECT i.product_id, i.available, i.reserved, i.received,
       p.sku, p.name, p.price, p.currency, p.is_active
FROM shop_inventory i JOIN shop_product p ON p.id = i.product_id
WHERE i.product_id = ANY(%s)
ORDER BY i.product_id
FOR UPDATE OF i
"""
MOVE = """
UPDATE shop_inventory SET available = available - d.q, reserved = reserved + d.q,
       updated_at = now()
FROM unnest(%s::bigint[], %s::int[]) AS d(pid, q)
WHERE product_id = d.pid
"""
INSERT_ORDER = """
INSERT INTO orders_order (id, status, currency, subtotal, total, idempotency_key,
    request_fingerprint, expires_at, restocked, needs_review, review_reason, carrier,
    tracking_number, created_at, updated_at, user_id)
VALUES (%s, 'created', %s, %s, %s, NULL, '', now() + interval '900 seconds', false, false, '',
    '', '', now(), now(), %s)
RETURNING created_at, expires_at
"""
INSERT_ITEMS = """
INSERT INTO orders_orderitem (order_id, product_id, sku, name, unit_price, quantity, line_total)
SELECT %s, * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::numeric[], %s::int[],
    %s::numeric[])
"""
INSERT_AUDIT = """
INSERT INTO audit_auditevent (occurred_at, action, entity_type, entity_id, before, after,
    request_id, actor_id)
SELECT now(), a.action, a.entity_type, a.entity_id, a.before, a.after, '', %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::jsonb[], %s::jsonb[])
    AS a(action, entity_type, entity_id, before, after)
"""
STATEMENTS_PER_CHECKOUT = 5  # plus COMMIT


class OutOfStock(Exception):
    outcome = "insufficient_stock"

    def __init__(self, product_id: int, requested: int, available: int):
        super().__init__(product_id)
        self.product_id, self.requested, self.available = product_id, requested, available


class UnknownProduct(Exception):
    pass


@dataclass(frozen=True)
class Placed:
    """What a committed checkout wrote: enough to answer the order's JSON (bench.wsgi_raw)."""

    order_id: uuid.UUID
    currency: str
    total: Decimal
    created_at: datetime
    expires_at: datetime
    # (product_id, sku, name, unit_price, quantity, line_total), by product id
    items: list[tuple]


def checkout(conn: psycopg.Connection, *, user_id: int, lines: list[tuple[int, int]]) -> Placed:
    """One checkout in one transaction; raises OutOfStock or UnknownProduct (rolled back)
    or psycopg errors."""
    quantities = dict(lines)
    pids = sorted(quantities)
    order_id = uuid.uuid4()
    with conn.transaction():
        rows = conn.execute(LOCK, (pids,)).fetchall()
        if len(rows) != len(pids) or not all(r[8] for r in rows):
            raise UnknownProduct()
        before, after, prices = [], [], []
        for pid, available, reserved, received, _sku, _name, price, _cur, _act in rows:
            q = quantities[pid]
            if available < q:
                raise OutOfStock(pid, q, available)
            before.append(
                Jsonb({"available": available, "reserved": reserved, "received": received})
            )
            after.append(
                Jsonb(
                    {
                        "available": available - q,
                        "reserved": reserved + q,
                        "received": received,
                        "reason": f"order {order_id}",
                    }
                )
            )
            prices.append(price)
        qs = [quantities[pid] for pid in pids]
        totals = [price * q for price, q in zip(prices, qs, strict=True)]
        total = sum(totals, Decimal("0.00"))
        conn.execute(MOVE, (pids, qs))
        created_at, expires_at = conn.execute(
            INSERT_ORDER, (order_id, rows[0][7], total, total, user_id)
        ).fetchone()
        conn.execute(
            INSERT_ITEMS,
            (order_id, pids, [r[4] for r in rows], [r[5] for r in rows], prices, qs, totals),
        )
        n = len(pids)
        conn.execute(
            INSERT_AUDIT,
            (
                user_id,
                ["inventory.reserved"] * n + ["order.created"],
                ["inventory"] * n + ["order"],
                [str(pid) for pid in pids] + [str(order_id)],
                [*before, None],
                [*after, Jsonb({"status": "created", "total": str(total), "currency": rows[0][7]})],
            ),
        )
    items = [
        (pid, r[4], r[5], price, q, line)
        for pid, r, price, q, line in zip(pids, rows, prices, qs, totals, strict=True)
    ]
    return Placed(order_id, rows[0][7], total, created_at, expires_at, items)


def run(
    *,
    conninfo: str,
    scenario: Scenario,
    concurrency: int,
    duration: float,
    warmup: float,
    user_ids: list[int],
    seed: int = 0,
) -> dict:
    """`concurrency` threads, one connection each, checking out back to back for
    warmup + duration seconds; statistics over the last `duration` seconds."""

    def checkout_client(index: int, conn: psycopg.Connection):
        rng = random.Random(seed * 1000 + index)  # noqa: S311
        user_id = user_ids[index % len(user_ids)]
        return lambda: checkout(conn, user_id=user_id, lines=scenario.cart(rng))

    return run_threads(
        checkout_client,
        conninfo=conninfo,
        concurrency=concurrency,
        duration=duration,
        warmup=warmup,
        statements=STATEMENTS_PER_CHECKOUT + 1,
    )


def run_threads(
    client_action,
    *,
    conninfo: str,
    concurrency: int,
    duration: float,
    warmup: float,
    statements: int,
) -> dict:
    """`concurrency` threads, one connection each, calling the action
    `client_action(index, conn)` returns back to back (the wallet floor uses it too).
    An exception's `outcome` attribute names it in the errors; `statements` per call
    (commit included) is the query count."""
    conns = [psycopg.connect(conninfo) for _ in range(concurrency)]
    recorders: list[Recorder] = []

    def worker(index: int, ready) -> None:
        action = client_action(index, conns[index])
        measure_from, until = ready()
        rec = Recorder(measure_from, until)
        recorders.append(rec)
        while True:
            started = now()
            if started >= until:
                break
            try:
                action()
                outcome = "ok"
            except Exhausted:
                rec.add(started, now() - started, Exhausted.outcome, 0)
                break
            except psycopg.errors.DeadlockDetected:
                outcome = "deadlock"
            except psycopg.Error as exc:
                outcome = type(exc).__name__
            except Exception as exc:  # the floor's own refusals carry their outcome
                outcome = getattr(exc, "outcome", type(exc).__name__)
            rec.add(started, now() - started, outcome, statements)

    cpu, elapsed = run_clients(worker, concurrency=concurrency, warmup=warmup, duration=duration)
    for conn in conns:
        conn.close()
    result = merge(recorders, duration)
    result["placed_total"] = sum(r.all_ok for r in recorders)
    result["client_cpu_pct"] = round(100 * cpu / elapsed, 1)
    result["includes"] = "SQL transaction only (psycopg, prepared statements)"
    return result
