"""A tiny run of each arm (about a second each), so the benchmark cannot rot.

No timing is asserted: only that checkouts happen, nothing fails and the invariants hold.
"""

import pytest
from django.db import connection

from bench import db, http_arm, invariants, raw_sql, service_arm
from bench.common import Scenario
from orders.models import Order
from shop.models import Product

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = {
    "SECRET_KEY": "bench-smoke-secret-key",
    "JWT_SIGNING_KEY": "test-jwt-signing-key-not-for-production",  # the tests' key
    "STRIPE_SECRET_KEY": "sk_test_bench",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
    "STRIPE_WEBHOOK_SECRET": "whsec_bench",
}


@pytest.fixture(autouse=True)
def _emails_wait_in_the_outbox(settings):
    # As in the benchmark, which has a broker: order e-mails are not sent in-process
    # after the commit (pytest has no broker), so the counts are the checkout's own.
    settings.EMAIL_SEND_ON_COMMIT = False


@pytest.fixture
def spread():
    return Scenario("spread", tuple(db.seed_products(prefix="SMK", count=20, stock=100_000)))


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def _check(placed: int) -> dict:
    with __import__("psycopg").connect(db.conninfo(_database_url())) as conn:
        return invariants.check(conn, use_django=True, orders_before=0, placed=placed)


def test_raw_arm_places_orders_that_keep_the_invariants(spread):
    users = db.seed_users(prefix="raw", count=2)
    result = raw_sql.run(
        conninfo=db.conninfo(_database_url()),
        scenario=spread,
        concurrency=2,
        duration=0.8,
        warmup=0.1,
        user_ids=[u.pk for u in users],
    )
    assert result["checkouts"] > 0
    assert result["errors"] == {}
    assert result["queries_per_checkout"] == 6
    assert _check(result["placed_total"])["new_orders"] == Order.objects.count()
    assert Order.objects.filter(status="created").count() == result["placed_total"]


def test_service_arm_without_stripe(spread):
    users = db.seed_users(prefix="svc", count=2)
    result = service_arm.run(
        scenario=spread, concurrency=2, duration=0.8, warmup=0.1, users=users, stripe=False
    )
    assert result["checkouts"] > 0
    assert result["errors"] == {}
    # products, order, items, e-mail (the outbox), lock, stock, audit
    assert result["queries_per_checkout"] == 7
    assert any("FOR UPDATE" in q for q in result["sample_queries"])
    _check(result["placed_total"])
    assert set(Order.objects.values_list("status", flat=True)) == {"created"}


def test_service_goods_arm_ships_with_a_coupon_and_tax(spread):
    from decimal import Decimal

    from pricing.models import Coupon

    users = db.seed_users(prefix="svg", count=2)
    result = service_arm.run(
        scenario=spread, concurrency=2, duration=0.8, warmup=0.1, users=users, goods=True
    )
    assert result["checkouts"] > 0
    assert result["errors"] == {}
    # the plain 7, then address, method, coupon, tax rate (pricing), the unlimited
    # coupon's shared lock in its savepoint (3), use row, its audit event
    assert result["queries_per_checkout"] == 16
    _check(result["placed_total"])
    orders = Order.objects.all()
    assert {(o.coupon_code, o.shipping_method_code) for o in orders} == {
        ("BENCH10", "bench-parcel")
    }
    assert all(o.tax_total > Decimal("0") and o.discount_total > 0 for o in orders)
    assert Coupon.objects.get().use_rows.count() == orders.count()  # unlimited: no count
    # The products are back to not shipped for the plain arms.
    assert not Product.objects.filter(requires_shipping=True).exists()


def test_service_arm_with_stripe_starts_payments(spread, stripe_sim):
    (user,) = db.seed_users(prefix="svs", count=1)
    result = service_arm.run(
        scenario=spread, concurrency=1, duration=0.8, warmup=0.1, users=[user], stripe=True
    )
    assert result["checkouts"] > 0
    assert result["errors"] == {}
    # the checkout's 7, then the payment step: order lock, payment (INSERT ... ON
    # CONFLICT, no look-up), order status, audit (nothing is looked up before the Stripe
    # call, nothing re-read after)
    assert result["queries_per_checkout"] == 11
    _check(result["placed_total"])
    assert set(Order.objects.values_list("status", flat=True)) == {"payment_pending"}


def test_service_arm_in_processes(spread, monkeypatch):
    # The spawned processes set Django up from the environment: point them at this
    # test database, with e-mails left in the outbox as the benchmark has them.
    monkeypatch.setenv("DATABASE_URL", _database_url())
    monkeypatch.setenv("CELERY_TASK_ALWAYS_EAGER", "false")
    users = db.seed_users(prefix="prc", count=2)
    result = service_arm.run_processes(
        scenario=spread, concurrency=2, duration=0.8, warmup=0.1, users=users
    )
    assert result["checkouts"] > 0
    assert result["errors"] == {}
    assert result["queries_per_checkout"] == 7
    _check(result["placed_total"])
    assert Order.objects.filter(status="created").count() == result["placed_total"]


def test_service_arm_with_stripe_in_processes(spread, stripe_sim, monkeypatch, settings):
    monkeypatch.setenv("DATABASE_URL", _database_url())
    monkeypatch.setenv("CELERY_TASK_ALWAYS_EAGER", "false")
    monkeypatch.setenv("STRIPE_API_BASE", settings.STRIPE_API_BASE)  # the simulator
    monkeypatch.setenv("STRIPE_SECRET_KEY", settings.STRIPE_SECRET_KEY)
    users = db.seed_users(prefix="sps", count=2)
    result = service_arm.run_processes(
        scenario=spread, concurrency=2, duration=0.8, warmup=0.1, users=users, stripe=True
    )
    assert result["checkouts"] > 0
    assert result["errors"] == {}
    assert result["queries_per_checkout"] == 11  # as service_stripe, in threads
    _check(result["placed_total"])
    assert set(Order.objects.values_list("status", flat=True)) == {"payment_pending"}


def test_http_arm_and_sold_out(spread):
    users = db.seed_users(prefix="web", count=4)
    env = http_arm.child_env(database_url=_database_url(), stripe_api_base="", secrets=SECRETS)
    sim, stripe_url = http_arm.start_simulator(env)
    server = None
    try:
        env["STRIPE_API_BASE"] = stripe_url
        server = http_arm.Server(http_arm.GunicornConfig.parse("sync:2,cma60"), env)
        token = http_arm.check_auth_endpoints(server.url, "smoke@bench.example", "Pa55-word-ok!")
        tokens = [token, *db.access_tokens(users)]
        result = http_arm.run(
            server=server, scenario=spread, tokens=tokens, concurrency=2, duration=1.0, warmup=0.2
        )
        assert result["checkouts"] > 0, server.log_tail()
        assert result["errors"] == {}
        # the service's 11: the token says who the user is (no user query), and the
        # answer's items are the ones just inserted
        assert result["queries_per_checkout"] == 11
        assert result["generator_cpu_pct"] > 0
        placed = result["placed_total"]

        (pid,) = db.seed_products(prefix="SOLD", count=1, stock=5)
        soldout = http_arm.run(
            server=server,
            scenario=Scenario("soldout", (pid,)),
            tokens=tokens,
            concurrency=20,
            duration=0,
            warmup=0,
            mode="once",
        )
        assert soldout["checkouts"] == 5
        assert soldout["errors"] == {"http_409:insufficient_stock": 15}
        _check(placed + 5)
        assert Order.objects.filter(items__product_id=pid).count() == 5
        assert set(Order.objects.values_list("status", flat=True)) == {"payment_pending"}
    finally:
        if server is not None:
            server.stop()
        sim.terminate()
        sim.wait(10)


def test_checkout_takes_no_savepoint_under_the_lock(spread):
    users = db.seed_users(prefix="nsp", count=1)
    hot = Scenario("hot", spread.product_ids[:1])
    result = service_arm.run(scenario=hot, concurrency=1, duration=0.5, warmup=0.1, users=users)
    # The locked section is lock, update, audit insert, commit: no SAVEPOINT round trips.
    assert not any(q.startswith("SAVEPOINT") for q in result["sample_queries"])
    _check(result["placed_total"])
