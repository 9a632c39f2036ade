"""The demo database: `make run` without DATABASE_URL runs on SQLite, and a checkout with
its stock movements' plain-SQL UPDATE and the audit log's plain-SQL INSERT must work there
too (no FOR UPDATE, same counters, events the ORM reads back as it wrote them).

Locking itself is proven on PostgreSQL elsewhere; this only guards the portability of
the SQL that shop.inventory and audit.services write by hand, driven by orders.checkout."""

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
from audit.models import AuditEvent
from django.utils import timezone
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
restocked = AuditEvent.objects.select_related("actor").latest("id")
assert timezone.now() - restocked.occurred_at < timezone.timedelta(minutes=1)
events = [
    [e.action, e.entity_id, e.before, e.after, e.actor is not None]
    for e in AuditEvent.objects.order_by("id")
]
print(json.dumps({
    "status": order.status, "refused": refused, "rows": list(map(list, rows)), "events": events,
    "ids": [a.pk, b.pk, str(order.pk)],
}))
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
    a, b, order = (str(pk) for pk in result["ids"])
    reason = {"reason": f"order {order}"}
    assert result["events"] == [  # [action, entity, before, after, has an actor]
        ["inventory.reserved", a, {"available": 5, "reserved": 0, "received": 5},
         {"available": 3, "reserved": 2, "received": 5, **reason}, True],
        ["inventory.reserved", b, {"available": 1, "reserved": 0, "received": 1},
         {"available": 0, "reserved": 1, "received": 1, **reason}, True],
        ["order.created", order, None,
         {"status": "created", "total": "30.00", "currency": "usd"}, True],
        ["inventory.restocked", b, {"available": 0, "reserved": 1, "received": 1},
         {"available": 3, "reserved": 1, "received": 4}, True],
    ]  # fmt: skip
