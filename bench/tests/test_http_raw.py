"""The `http_raw` arm (bench/wsgi_raw.py): the same answer as the shop's checkout, the
same invariants, and its statements counted as the raw arm counts them."""

import httpx
import pytest

from bench import db, http_arm, raw_sql, wsgi_raw
from bench.common import Scenario
from bench.tests.test_smoke import SECRETS, _check, _database_url
from orders.models import Order
from payments.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _emails_wait_in_the_outbox(settings):
    settings.EMAIL_SEND_ON_COMMIT = False


@pytest.fixture
def servers():
    """The shop and the raw floor under the same gunicorn configuration, one simulator."""
    env = http_arm.child_env(database_url=_database_url(), stripe_api_base="", secrets=SECRETS)
    sim, stripe_url = http_arm.start_simulator(env)
    env["STRIPE_API_BASE"] = stripe_url
    started = []
    try:
        for app in ("http", "http_raw"):
            started.append(http_arm.Server(http_arm.GunicornConfig.parse("sync:1"), env, app))
        yield dict(zip(("http", "http_raw"), started, strict=True))
    finally:
        for server in started:
            server.stop()
        sim.terminate()
        sim.wait(10)


def _shape(value):
    """The JSON's structure: keys and value types, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _post(server, token, body):
    return httpx.post(
        f"{server.url}{wsgi_raw.CHECKOUT_PATH}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_http_raw_answers_what_the_shop_answers(servers):
    pids = db.seed_products(prefix="HRW", count=3, stock=10)
    (user,) = db.seed_users(prefix="hrw", count=1)
    (token,) = db.access_tokens([user])
    body = {
        "items": [{"product_id": pids[2], "quantity": 2}, {"product_id": pids[0], "quantity": 1}]
    }

    shop = _post(servers["http"], token, body)
    raw = _post(servers["http_raw"], token, body)

    assert (shop.status_code, raw.status_code) == (201, 201)
    shop, raw = shop.json(), raw.json()
    assert _shape(raw) == _shape(shop)
    assert list(raw) == list(shop)  # the same keys in the same order
    assert list(raw["payment"]) == list(shop["payment"])
    volatile = {"id", "payment", "expires_at", "created_at", "updated_at"}
    assert {k: v for k, v in raw.items() if k not in volatile} == {
        k: v for k, v in shop.items() if k not in volatile
    }
    assert raw["status"] == "payment_pending"
    assert raw["payment"]["client_secret"].startswith(raw["payment"]["payment_intent_id"])
    assert raw["created_at"].endswith("Z") and raw["updated_at"] >= raw["created_at"]
    order = Order.objects.get(pk=raw["id"])
    assert (order.status, order.user_id, str(order.total)) == (
        "payment_pending",
        user.pk,
        raw["total"],
    )
    payment = Payment.objects.get(order=order)
    assert payment.stripe_payment_intent_id == raw["payment"]["payment_intent_id"]
    _check(2)


def test_http_raw_refuses_what_the_shop_refuses(servers):
    (pid,) = db.seed_products(prefix="HRX", count=1, stock=1)
    (user,) = db.seed_users(prefix="hrx", count=1)
    (token,) = db.access_tokens([user])
    too_many = {"items": [{"product_id": pid, "quantity": 2}]}

    for name in ("http", "http_raw"):
        out_of_stock = _post(servers[name], token, too_many)
        assert out_of_stock.status_code == 409
        assert out_of_stock.json()["code"] == "insufficient_stock"
        assert {k: out_of_stock.json()[k] for k in ("product_id", "requested", "available")} == {
            "product_id": pid,
            "requested": 2,
            "available": 1,
        }
        assert _post(servers[name], "not-a-jwt", too_many).status_code == 401
        assert _post(servers[name], token, {"items": []}).status_code == 400
    assert Order.objects.count() == 0
    _check(0)


def test_http_raw_arm_counts_and_keeps_the_invariants(servers):
    spread = Scenario("spread", tuple(db.seed_products(prefix="HRS", count=20, stock=100_000)))
    users = db.seed_users(prefix="hrs", count=2)
    result = http_arm.run(
        server=servers["http_raw"],
        scenario=spread,
        tokens=db.access_tokens(users),
        concurrency=2,
        duration=1.0,
        warmup=0.2,
    )
    assert result["checkouts"] > 0, servers["http_raw"].log_tail()
    assert result["errors"] == {}
    # the raw arm's 5 statements + COMMIT, then lock, payment, order, audit + COMMIT
    assert result["queries_per_checkout"] == raw_sql.STATEMENTS_PER_CHECKOUT + 1 + 5 == 11
    assert result["server_cpu_ms_per_checkout"] > 0
    _check(result["placed_total"])
    assert set(Order.objects.values_list("status", flat=True)) == {"payment_pending"}
    assert Payment.objects.count() == result["placed_total"]
