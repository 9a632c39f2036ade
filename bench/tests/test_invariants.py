"""The benchmark's invariant checker must catch a broken inventory, whichever way it breaks."""

import random

import pytest
from django.db import connection

from bench import db, invariants
from bench.common import Scenario, latency_summary, percentile
from orders.checkout import place_order
from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed():
    """Three products, two customers, three orders holding stock."""
    pids = db.seed_products(prefix="INV", count=3, stock=10)
    alice, bob = db.seed_users(prefix="inv", count=2)
    place_order(user=alice, lines=[(pids[0], 2), (pids[1], 1)])
    place_order(user=bob, lines=[(pids[0], 3)])
    place_order(user=bob, lines=[(pids[2], 10)])
    return pids


def _psycopg():
    # The test's own connection: the checker sees the test transaction's rows.
    connection.ensure_connection()
    return connection.connection


def _broken(problems, pid):
    return next(p["broken"] for p in problems if p["product_id"] == pid)


def test_consistent_stock_passes_both_checkers(placed):
    assert invariants.sql_discrepancies(_psycopg()) == []
    assert invariants.django_discrepancies() == []
    checked = invariants.check(_psycopg(), use_django=True, orders_before=0, placed=3)
    assert checked == {"stock_ok": True, "checked_by": "sql+django", "new_orders": 3}


def test_reserved_changed_behind_the_orders_back_is_caught(placed):
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE shop_inventory SET reserved = reserved + 1 WHERE product_id = %s",
            [placed[1]],
        )
    sql = invariants.sql_discrepancies(_psycopg())
    assert [p["product_id"] for p in sql] == [placed[1]]
    assert _broken(sql, placed[1]) == [
        "received != available + reserved + sold",
        "reserved != quantities of pending orders",
    ]
    assert sql[0]["reserved"] == 2 and sql[0]["pending"] == 1
    assert [p["product_id"] for p in invariants.django_discrepancies()] == [placed[1]]
    with pytest.raises(invariants.InvariantBroken, match="SQL check"):
        invariants.check(_psycopg(), use_django=False, orders_before=0, placed=3)


def test_stock_moved_between_counters_breaks_only_the_pending_rule(placed):
    # available -1, reserved +1: conservation holds, reserved no longer matches orders.
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE shop_inventory SET available = available - 1, reserved = reserved + 1"
            " WHERE product_id = %s",
            [placed[0]],
        )
    assert _broken(invariants.sql_discrepancies(_psycopg()), placed[0]) == [
        "reserved != quantities of pending orders"
    ]


def test_negative_stock_is_caught(placed):
    # The CHECK constraint normally forbids it; drop it inside the test transaction.
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER
        cur.execute("ALTER TABLE shop_inventory DROP CONSTRAINT inventory_available_gte_0")
        cur.execute(
            "UPDATE shop_inventory SET available = -1, received = received - 1"
            " WHERE product_id = %s",
            [placed[2]],
        )
    assert _broken(invariants.sql_discrepancies(_psycopg()), placed[2]) == ["negative stock"]
    assert invariants.django_discrepancies()[0]["broken"] == ["negative stock"]


def test_a_paid_order_counts_as_sold_not_reserved(placed):
    order = Order.objects.filter(items__product_id=placed[2]).get()
    with connection.cursor() as cur:
        cur.execute("UPDATE orders_order SET status = 'paid' WHERE id = %s", [order.pk])
    # reserved still holds the 10 units: the order no longer does.
    assert _broken(invariants.sql_discrepancies(_psycopg()), placed[2]) == [
        "received != available + reserved + sold",
        "reserved != quantities of pending orders",
    ]
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE shop_inventory SET reserved = reserved - 10 WHERE product_id = %s",
            [placed[2]],
        )
    assert invariants.sql_discrepancies(_psycopg()) == []


def test_orders_the_clients_never_heard_of_are_caught(placed):
    with pytest.raises(invariants.InvariantBroken, match="3 orders in the database, but clients"):
        invariants.check(_psycopg(), use_django=True, orders_before=0, placed=2)


def test_status_groups_mirror_the_order_model():
    assert tuple(Order.HOLDING_STOCK) == invariants.HOLDING_STOCK
    assert tuple(Order.SOLD) == invariants.SOLD


def test_spread_carts_have_one_to_five_distinct_lines():
    scenario = Scenario("spread", tuple(range(1, 1001)))
    rng = random.Random(7)
    carts = [scenario.cart(rng) for _ in range(500)]
    assert {len(c) for c in carts} == {1, 2, 3, 4, 5}
    assert all(len({pid for pid, _ in c}) == len(c) for c in carts)
    assert {q for c in carts for _, q in c} == {1, 2, 3}
    assert Scenario("hot", (42,)).cart(rng) == [(42, 1)]


def test_percentiles_use_nearest_rank():
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert percentile(values, 50) == 0.05
    assert percentile(values, 99) == 0.099
    assert latency_summary(values)["p95_ms"] == 95.0
    assert latency_summary([])["p50_ms"] is None
