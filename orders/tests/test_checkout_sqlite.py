"""The demo database: `make run` without DATABASE_URL runs on SQLite, and a checkout with
its stock movements' plain-SQL UPDATE and the audit log's plain-SQL INSERT must work there
too (no FOR UPDATE, same counters, events the ORM reads back as it wrote them).

Locking itself is proven on PostgreSQL elsewhere; this only guards the portability of
the SQL that shop.inventory, audit.services and pricing.coupons write by hand, driven
by orders.checkout."""

from core.tests.helpers import run_on_sqlite

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
    result = run_on_sqlite(tmp_path, SCRIPT)

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


COUPON_SCRIPT = """
import json
from decimal import Decimal
from orders.checkout import Delivery, place_order
from pricing.models import Coupon
from shop.tests.factories import ProductFactory, UserFactory

product = ProductFactory(price=Decimal("20.00"), stock=5)
Coupon.objects.create(code="ALL", kind="percent", value=Decimal("10"))
Coupon.objects.create(code="ONE", kind="fixed", value=Decimal("5"), max_uses=1)
totals = []
for code in ("ALL", "ALL", "ONE"):
    order = place_order(user=UserFactory(), lines=[(product.pk, 1)], delivery=Delivery(coupon=code))
    totals.append(str(order.total))
uses = {c.code: c.use_rows.count() for c in Coupon.objects.all()}
print(json.dumps({"totals": totals, "uses": uses}))
"""


def test_checkouts_with_coupons_on_the_demo_sqlite_database(tmp_path):
    """An unlimited coupon is share-locked with raw PostgreSQL SQL (pricing.coupons):
    SQLite, which has no row locks, reads it plainly."""
    result = run_on_sqlite(tmp_path, COUPON_SCRIPT)

    assert result == {"totals": ["18.00", "18.00", "15.00"], "uses": {"ALL": 2, "ONE": 1}}
