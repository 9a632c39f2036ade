"""The demo database: `make run` without DATABASE_URL runs on SQLite, and the stock
movements' plain-SQL UPDATE must work there too (no FOR UPDATE, same counters).

Locking itself is proven on PostgreSQL elsewhere; this only guards the portability of
the SQL that shop.inventory writes by hand."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
from orders.checkout import place_order
from shop import inventory
from shop.exceptions import InsufficientStock
from shop.models import Inventory
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

a, b = ProductFactory(stock=5), ProductFactory(name="Brass pen", stock=1)
order = place_order(user=UserFactory(), lines=[(b.pk, 1), (a.pk, 2)])
try:
    place_order(user=UserFactory(), lines=[(a.pk, 1), (b.pk, 1)])
except InsufficientStock as exc:
    refused = str(exc)
inventory.restock(product_id=b.pk, quantity=3, actor=StaffFactory())
rows = Inventory.objects.order_by("product_id").values_list("available", "reserved", "received")
print(json.dumps({"status": order.status, "refused": refused, "rows": list(map(list, rows))}))
"""


def test_checkout_and_restock_on_the_demo_sqlite_database(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "DEBUG": "true"}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    done = subprocess.run(  # noqa: S603
        [*manage, "shell", "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["status"] == "created"  # Stripe is not reachable from the tests
    assert result["refused"] == "Brass pen: 1 requested, only 0 available."
    assert result["rows"] == [[3, 2, 5], [3, 1, 4]]
