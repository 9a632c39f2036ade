"""The invariants of DESIGN.md, checked after every scenario.

`sql_discrepancies` is the benchmark's own SQL version (psycopg, no Django), used by the
raw arm; `django_discrepancies` reuses the shop's `orders.selectors.stock_discrepancies`.
`check` runs both and also checks that the database holds exactly the orders the clients
were told about. It raises InvariantBroken, so a broken run fails loudly.
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


def check(conn: psycopg.Connection, *, use_django: bool, orders_before: int, placed: int) -> dict:
    """Raise InvariantBroken unless stock is consistent and the database holds exactly
    `placed` new orders since `orders_before`. Returns what was checked."""
    problems = sql_discrepancies(conn)
    if problems:
        raise InvariantBroken(f"stock invariants broken (SQL check): {problems[:5]}")
    if use_django:
        problems = django_discrepancies()
        if problems:
            raise InvariantBroken(f"invariants broken (stock_/money_discrepancies): {problems[:5]}")
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
