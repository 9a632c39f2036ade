"""bench.growth's pieces: carts of a fixed size, the orders it seeds, and the index that
keeps a customer's order list flat however many orders the shop holds."""

import random

import psycopg
import pytest

from bench import db, growth, invariants
from bench.common import Scenario
from bench.tests.test_smoke import _database_url
from orders.models import Order
from orders.selectors import orders_with_details

pytestmark = pytest.mark.django_db(transaction=True)


def test_carts_of_a_fixed_size_have_distinct_lines_of_one_unit():
    scenario = Scenario("lines50", tuple(range(1, 1001)), lines=50)
    carts = [scenario.cart(random.Random(n)) for n in range(20)]
    assert {len(c) for c in carts} == {50}
    assert all(len({pid for pid, _ in c}) == 50 and {q for _, q in c} == {1} for c in carts)
    assert Scenario.from_json(scenario.to_json()) == scenario


def _seed(n_customers: int, n_orders: int):
    (archived,) = db.seed_products(prefix="ARC", count=1, stock=0)
    customers = db.seed_users(prefix="growth", count=n_customers)
    conn = psycopg.connect(db.conninfo(_database_url()), autocommit=True)
    product = conn.execute(
        "SELECT id, sku, name, price FROM shop_product WHERE id = %s", (archived,)
    ).fetchone()
    growth.seed_orders(conn, have=0, want=n_orders // 2, product=product)
    growth.seed_orders(conn, have=n_orders // 2, want=n_orders, product=product)
    return conn, customers


def test_seeded_orders_spread_over_customers_and_keep_the_invariants():
    conn, customers = _seed(10, 2500)
    with conn:
        checked = invariants.check(conn, use_django=True, orders_before=0, placed=2500)
        newest = growth.newest_order_of(conn, customers[3].pk)

    assert checked["new_orders"] == 2500
    per_customer = {Order.objects.filter(user=u).count() for u in customers}
    assert per_customer == {250}
    assert set(Order.objects.values_list("status", flat=True)) == {"cancelled", "expired"}
    assert Order.objects.filter(items__isnull=True).count() == 0
    assert str(Order.objects.filter(user=customers[3]).latest("created_at").pk) == newest


def test_a_customers_order_list_is_read_from_its_index():
    conn, customers = _seed(100, 20_000)
    conn.close()

    # The API's list of one customer (1% of the orders), newest first: the page comes
    # from the index in order, without sorting the customer's orders.
    page = orders_with_details(user=customers[3]).order_by("-created_at", "-id")[:20]
    plan = page.explain()

    assert "Index Scan using order_user_newest_idx" in plan
    assert "Sort" not in plan
