"""The invariants of DESIGN.md, checked after every scenario.

`sql_discrepancies` is the benchmark's own SQL version (psycopg, no Django), used by the
raw arm; `django_discrepancies` reuses the shop's `orders.selectors.stock_discrepancies`.
`check` runs both and also checks that the database holds exactly the orders the clients
were told about; `check_wallet` does the same after a wallet-payment cell, with the
wallet invariants and the payments. They raise InvariantBroken, so a broken run fails
loudly.
"""

import psycopg

# Mirrors orders.models.Order.HOLDING_STOCK and Order.SOLD (a unit test keeps them equal).
HOLDING_STOCK = ("created", "payment_pending")
SOLD = ("paid", "fulfilled", "refunded")

_SQL = """
WITH sold AS (
    SELECT i.product_id, sum(i.quantity) AS quantity
    FROM orders_orderitem i JOIN orders_order o ON o.id = i.order_id
    WHERE o.status = ANY(%(sold)s) AND NOT (o.status = 'refunded' AND o.restocked)
    GROUP BY i.product_id
), pending AS (
    SELECT i.product_id, sum(i.quantity) AS quantity
    FROM orders_orderitem i JOIN orders_order o ON o.id = i.order_id
    WHERE o.status = ANY(%(holding)s)
    GROUP BY i.product_id
)
SELECT inv.product_id, inv.available, inv.reserved, inv.received,
       coalesce(sold.quantity, 0) AS sold, coalesce(pending.quantity, 0) AS pending
FROM shop_inventory inv
LEFT JOIN sold ON sold.product_id = inv.product_id
LEFT JOIN pending ON pending.product_id = inv.product_id
WHERE inv.available < 0 OR inv.reserved < 0
   OR inv.received <> inv.available + inv.reserved + coalesce(sold.quantity, 0)
   OR inv.reserved <> coalesce(pending.quantity, 0)
ORDER BY inv.product_id
"""


class InvariantBroken(AssertionError):
    pass


def sql_discrepancies(conn: psycopg.Connection) -> list[dict]:
    """Products breaking an invariant, each with the list of what is broken."""
    problems = []
    cur = conn.execute(_SQL, {"sold": list(SOLD), "holding": list(HOLDING_STOCK)})
    for pid, available, reserved, received, sold, pending in cur.fetchall():
        broken = []
        if available < 0 or reserved < 0:
            broken.append("negative stock")
        if received != available + reserved + sold:
            broken.append("received != available + reserved + sold")
        if reserved != pending:
            broken.append("reserved != quantities of pending orders")
        problems.append(
            {
                "product_id": pid,
                "available": available,
                "reserved": reserved,
                "received": received,
                "sold": int(sold),
                "pending": int(pending),
                "broken": broken,
            }
        )
    return problems


def django_discrepancies() -> list[dict]:
    """Stock, and money: every order's breakdown and the coupons' use counts."""
    from orders.selectors import money_discrepancies, stock_discrepancies

    return stock_discrepancies() + money_discrepancies()


def order_count(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM orders_order").fetchone()[0]


def _check_stock(conn: psycopg.Connection, *, use_django: bool) -> None:
    problems = sql_discrepancies(conn)
    if problems:
        raise InvariantBroken(f"stock invariants broken (SQL check): {problems[:5]}")
    if use_django:
        problems = django_discrepancies()
        if problems:
            raise InvariantBroken(f"invariants broken (stock_/money_discrepancies): {problems[:5]}")


def check(conn: psycopg.Connection, *, use_django: bool, orders_before: int, placed: int) -> dict:
    """Raise InvariantBroken unless stock is consistent and the database holds exactly
    `placed` new orders since `orders_before`. Returns what was checked."""
    _check_stock(conn, use_django=use_django)
    new_orders = order_count(conn) - orders_before
    if new_orders != placed:
        raise InvariantBroken(
            f"{new_orders} orders in the database, but clients saw {placed} placed"
        )
    return {
        "stock_ok": True,
        "checked_by": "sql+django" if use_django else "sql",
        "new_orders": new_orders,
    }


# --- the wallet-payment arms -----------------------------------------------------------

_WALLET_SUMS = """
SELECT w.id, w.balance, coalesce(sum(e.amount), 0), w.entry_count, count(e.id)
FROM wallets_wallet w LEFT JOIN wallets_ledgerentry e ON e.wallet_id = w.id
GROUP BY w.id
HAVING w.balance <> coalesce(sum(e.amount), 0) OR w.entry_count <> count(e.id)
    OR (w.kind = 'customer' AND w.balance < 0)
ORDER BY w.id
"""
_WALLET_CHAIN = """
SELECT wallet_id, sequence FROM (
    SELECT wallet_id, sequence, amount, balance_before, balance_after,
           lag(balance_after) OVER w AS previous_after, lag(sequence) OVER w AS previous
    FROM wallets_ledgerentry WINDOW w AS (PARTITION BY wallet_id ORDER BY sequence)
) e
WHERE balance_after <> balance_before + amount
   OR (previous IS NULL AND (sequence <> 1 OR balance_before <> 0))
   OR (previous IS NOT NULL AND (sequence <> previous + 1 OR balance_before <> previous_after))
ORDER BY wallet_id, sequence
"""
_WALLET_PAYMENTS = """
SELECT e.wallet_id, e.reference FROM wallets_ledgerentry e
LEFT JOIN orders_order o ON o.id::text = e.reference
WHERE e.type = 'payment'
  AND (o.id IS NULL OR e.amount <> -o.total OR NOT o.status = ANY(%(sold)s))
ORDER BY e.id
"""


def wallet_sql_discrepancies(conn: psycopg.Connection) -> list[dict]:
    """The wallet invariants of DESIGN.md in SQL: every wallet's balance is the sum of its
    entries (and `entry_count` their number), a customer's never below zero; entries
    form a chain (1, 2, 3..., each starting where the previous ended, after = before +
    amount); every `payment` entry is minus the total of a sold order."""
    problems: dict[int, list[str]] = {}
    for wallet_id, *_ in conn.execute(_WALLET_SUMS).fetchall():
        problems.setdefault(wallet_id, []).append("balance != entries (sum, count or sign)")
    for wallet_id, sequence in conn.execute(_WALLET_CHAIN).fetchall():
        problems.setdefault(wallet_id, []).append(f"chain broken at entry {sequence}")
    for wallet_id, reference in conn.execute(_WALLET_PAYMENTS, {"sold": list(SOLD)}):
        problems.setdefault(wallet_id, []).append(f"payment {reference} != its order's total")
    return [{"wallet_id": w, "broken": b} for w, b in sorted(problems.items())]


def wallet_payments(conn: psycopg.Connection) -> tuple[int, int]:
    """(wallet `payment` entries, paid orders): each wallet payment adds one of each."""
    return conn.execute(
        "SELECT (SELECT count(*) FROM wallets_ledgerentry WHERE type = 'payment'),"
        " (SELECT count(*) FROM orders_order WHERE status = 'paid')"
    ).fetchone()


def check_wallet(
    conn: psycopg.Connection, *, use_django: bool, orders_before: tuple[int, int], placed: int
) -> dict:
    """After a wallet-payment cell: the stock invariants as after checkout, the wallet
    invariants (SQL, and `wallets.selectors.wallet_discrepancies` for the Django arm),
    and exactly `placed` new payment entries and newly paid orders since
    `orders_before` (from `wallet_payments`). Raises InvariantBroken."""
    _check_stock(conn, use_django=use_django)
    problems = wallet_sql_discrepancies(conn)
    if problems:
        raise InvariantBroken(f"wallet invariants broken (SQL check): {problems[:5]}")
    if use_django:
        from wallets.selectors import wallet_discrepancies

        problems = wallet_discrepancies()
        if problems:
            raise InvariantBroken(f"wallet invariants broken (wallet_discrepancies): {problems}")
    entries, paid = wallet_payments(conn)
    entries, paid = entries - orders_before[0], paid - orders_before[1]
    if entries != placed or paid != placed:
        raise InvariantBroken(
            f"{entries} payment entries and {paid} newly paid orders, but clients saw "
            f"{placed} payments"
        )
    return {
        "stock_ok": True,
        "wallets_ok": True,
        "checked_by": "sql+django" if use_django else "sql",
        "payments": placed,
    }
