"""The wallet-payment arms (issue 16): an order paid from the wallet balance, measured
beside checkout with the same scenarios, threads, samplers and invariant checks.

- `wallet_raw` (the floor): `wallets.services.pay_order`'s transaction issued with
  psycopg, no Django: lock the order, lock the wallet, insert the `payment` ledger entry
  (the append-only trigger checks its chain), update the wallet, lock the order's stock
  rows by product id, commit the reserved stock (one set-based UPDATE), mark the order
  paid, one INSERT for all audit rows (`wallet.payment`, `inventory.committed` per row,
  `order.mark_paid`); COMMIT. 8 statements + commit, prepared after a few runs. Like the
  checkout floor it leaves out the order's e-mail (the shop inserts its outbox row).
- `wallet`: `wallets.services.pay_order()` from N threads of one process (a Django
  connection each), the same locks in the same order, then after the commit payments'
  reaction to OrderPaid, which finds no PaymentIntent to cancel (the seeded orders have
  none; in production it would cancel one at Stripe, outside any lock).

Before each cell `seed` gives every client its own customer with a queue of
`payment_pending` orders of the scenario's carts (bulk-created; the stock reserved
through `shop.inventory.reserve`, as checkout would) and a wallet holding exactly their
totals (an adjustment through `wallets.ledger`). A client that empties its queue stops
with `exhausted`, which fails the run: the seed is sized for CEILING payments/s.
"""

import math
import random
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import psycopg
from psycopg.types.json import Jsonb

from bench import raw_sql, service_arm
from bench.common import Exhausted, Scenario

# Payments per second the seed is sized for (whole cell, all clients): well above what
# each arm reaches on the reference machine (checkout's floor peaks near 1,300/s).
CEILING = {"wallet_raw": 3000, "wallet": 1200}
# Seeded orders are payable for this long (pay_order refuses an expired reservation).
PAYABLE_FOR = timedelta(days=1)

LOCK_ORDER = """
SELECT status, total, currency, expires_at > now(), user_id
FROM orders_order WHERE id = %s FOR UPDATE
"""
LOCK_WALLET = """
SELECT id, balance, entry_count, is_locked, currency
FROM wallets_wallet WHERE user_id = %s FOR UPDATE
"""
INSERT_ENTRY = """
INSERT INTO wallets_ledgerentry (wallet_id, sequence, type, amount, balance_before,
    balance_after, reference, note, created_by_id, created_at)
VALUES (%s, %s, 'payment', %s, %s, %s, %s, '', %s, now())
RETURNING id
"""
UPDATE_WALLET = """
UPDATE wallets_wallet SET balance = %s, entry_count = %s, updated_at = now() WHERE id = %s
"""
LOCK_STOCK = """
SELECT i.product_id, i.available, i.reserved, i.received, oi.quantity
FROM shop_inventory i JOIN orders_orderitem oi ON oi.product_id = i.product_id
WHERE oi.order_id = %s
ORDER BY i.product_id
FOR UPDATE OF i
"""
COMMIT_STOCK = """
UPDATE shop_inventory SET reserved = reserved - d.q, updated_at = now()
FROM unnest(%s::bigint[], %s::int[]) AS d(pid, q)
WHERE product_id = d.pid
"""
MARK_PAID = "UPDATE orders_order SET status = 'paid', updated_at = now() WHERE id = %s"
STATEMENTS_PER_PAYMENT = 8  # plus COMMIT


class Refused(Exception):
    """The floor's own refusals, named like the service's error codes."""

    def __init__(self, outcome: str):
        super().__init__(outcome)
        self.outcome = outcome


def pay(conn: psycopg.Connection, *, order_id: uuid.UUID, user_id: int) -> None:
    """Pay one order from its customer's wallet in one transaction; raises Refused
    (rolled back) or psycopg errors."""
    with conn.transaction():
        status, total, currency, payable, owner = conn.execute(LOCK_ORDER, (order_id,)).fetchone()
        if owner != user_id:
            raise Refused("not_permitted")
        if status not in ("created", "payment_pending") or not payable:
            raise Refused("invalid_transition")
        wallet = conn.execute(LOCK_WALLET, (user_id,)).fetchone()
        if wallet is None:
            raise Refused("insufficient_funds")
        wallet_id, balance, entries, locked, wallet_currency = wallet
        if locked:
            raise Refused("wallet_locked")
        if wallet_currency != currency:
            raise Refused("invalid_transition")
        if balance < total:
            raise Refused("insufficient_funds")
        after = balance - total
        (entry_id,) = conn.execute(
            INSERT_ENTRY,
            (wallet_id, entries + 1, -total, balance, after, str(order_id), user_id),
        ).fetchone()
        conn.execute(UPDATE_WALLET, (after, entries + 1, wallet_id))
        rows = conn.execute(LOCK_STOCK, (order_id,)).fetchall()
        conn.execute(COMMIT_STOCK, ([r[0] for r in rows], [r[4] for r in rows]))
        conn.execute(MARK_PAID, (order_id,))
        reason = f"order {order_id} paid"
        changes = [
            (
                "wallet.payment",
                "wallet",
                str(wallet_id),
                Jsonb({"balance": str(balance)}),
                Jsonb(
                    {
                        "balance": str(after),
                        "entry": entry_id,
                        "sequence": entries + 1,
                        "type": "payment",
                        "amount": str(-total),
                        "reference": str(order_id),
                    }
                ),
            ),
            *(
                (
                    "inventory.committed",
                    "inventory",
                    str(pid),
                    Jsonb({"available": available, "reserved": reserved, "received": received}),
                    Jsonb(
                        {
                            "available": available,
                            "reserved": reserved - q,
                            "received": received,
                            "reason": reason,
                        }
                    ),
                )
                for pid, available, reserved, received, q in rows
            ),
            (
                "order.mark_paid",
                "order",
                str(order_id),
                Jsonb({"status": status}),
                Jsonb({"status": "paid"}),
            ),
        ]
        conn.execute(raw_sql.INSERT_AUDIT, (user_id, *map(list, zip(*changes, strict=True))))


# --- seeding ---------------------------------------------------------------------------


def seed(*, arm: str, scenario: Scenario, users: list, concurrency: int, seconds: float, seed=0):
    """Queues of payable orders, one per client (client i pays as users[i]), sized for
    CEILING[arm] payments/s over `seconds`, and wallets funded with exactly their
    totals. Returns the queues (lists of order ids, in paying order)."""
    per_client = math.ceil(CEILING[arm] * seconds / concurrency) + 10
    rng = random.Random(seed)  # noqa: S311
    return [
        _seed_client(users[i % len(users)], scenario, per_client, rng) for i in range(concurrency)
    ]


def _seed_client(user, scenario: Scenario, count: int, rng: random.Random) -> list:
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from orders.models import Order, OrderItem
    from shop import inventory
    from shop.models import Product
    from wallets import ledger
    from wallets.models import EntryType

    carts = [scenario.cart(rng) for _ in range(count)]
    products = {
        p.pk: p for p in Product.objects.filter(pk__in={pid for cart in carts for pid, _ in cart})
    }
    expires_at = timezone.now() + PAYABLE_FOR
    orders, items, demand = [], [], Counter()
    for cart in carts:
        order_id = uuid.uuid4()
        total = Decimal("0.00")
        for pid, q in sorted(cart):
            product = products[pid]
            items.append(
                OrderItem(
                    order_id=order_id,
                    product_id=pid,
                    sku=product.sku,
                    name=product.name,
                    unit_price=product.price,
                    quantity=q,
                    line_total=product.price * q,
                )
            )
            total += product.price * q
            demand[pid] += q
        orders.append(
            Order(
                id=order_id,
                user=user,
                status=Order.Status.PAYMENT_PENDING,
                currency=settings.SHOP_CURRENCY,
                subtotal=total,
                total=total,
                expires_at=expires_at,
            )
        )
    with transaction.atomic():
        Order.objects.bulk_create(orders, batch_size=2000)
        OrderItem.objects.bulk_create(items, batch_size=5000)
        inventory.reserve(quantities=dict(demand), reason="bench: orders to pay from the wallet")
        wallet = ledger.wallet_for(user=user)
        wallet = ledger.lock(wallet_ids=[wallet.pk])[wallet.pk]
        ledger.post(
            wallet=wallet,
            type=EntryType.ADJUSTMENT,
            amount=sum((o.total for o in orders), Decimal("0.00")),
            note="bench: funds for the orders to pay",
        )
    return [o.id for o in orders]


def _next(queue):
    try:
        return next(queue)
    except StopIteration:
        raise Exhausted() from None


# --- the arms --------------------------------------------------------------------------


def run_raw(
    *, conninfo: str, queues: list, user_ids: list, concurrency: int, duration, warmup
) -> dict:
    def client(index: int, conn: psycopg.Connection):
        queue, user_id = iter(queues[index]), user_ids[index % len(user_ids)]
        return lambda: pay(conn, order_id=_next(queue), user_id=user_id)

    result = raw_sql.run_threads(
        client,
        conninfo=conninfo,
        concurrency=concurrency,
        duration=duration,
        warmup=warmup,
        statements=STATEMENTS_PER_PAYMENT + 1,
    )
    result["includes"] = "pay_order's SQL transaction only (psycopg, prepared statements)"
    return result


def run_service(*, queues: list, users: list, concurrency: int, duration, warmup) -> dict:
    from orders.models import Order
    from wallets.services import pay_order

    def client(index: int):
        queue, user = iter(queues[index]), users[index % len(users)]
        # pay_order re-reads the order under its lock: only the id is needed here.
        return lambda: pay_order(order=Order(pk=_next(queue)), user=user)

    result = service_arm.run_threads(
        client, concurrency=concurrency, duration=duration, warmup=warmup
    )
    result["includes"] = "wallets.services.pay_order() incl. payments' after-commit reaction"
    return result
