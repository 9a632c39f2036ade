"""The demo database: `make run` without DATABASE_URL runs on SQLite, which has no row
locks. A checkout with a coupon, unlimited (share-locked on PostgreSQL: raw SQL) or
limited, must still work there."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
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
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DEBUG": "true",
    }
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
    assert result == {"totals": ["18.00", "18.00", "15.00"], "uses": {"ALL": 2, "ONE": 1}}
