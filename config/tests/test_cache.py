"""Redis down (config/cache.py; issue 14, item 5): the cache fails open, so the shop keeps
selling on PostgreSQL alone: throttles, the cached product list and sessions.

Redis is never stopped here (other test runs share it): the cache points at a port that
refuses connections, or at a socket that accepts them and never answers.
"""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from django.core.cache import cache
from django.urls import reverse
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

import config.cache
from core.tests.helpers import api, client_for
from orders.models import Order
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"  # shop.tests.factories.UserFactory's
# A real Redis for the throttle's round trips: the benchmark's database.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def fail_opens(operation: str) -> float:
    return REGISTRY.get_sample_value("shop_cache_fail_open_total", {"operation": operation}) or 0


@contextmanager
def redis_at(settings, port: int):
    """Production's cache settings, with Redis at this port of 127.0.0.1."""
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    config.cache.reset()
    yield
    config.cache.reset()


@pytest.fixture(params=["refused", "hung"])
def redis_down(request, settings, silent_server):
    """A Redis that refuses connections (port 9), or accepts them and never answers."""
    with redis_at(settings, 9 if request.param == "refused" else silent_server.port):
        yield


@pytest.fixture
def redis_hung(settings, silent_server):
    with redis_at(settings, silent_server.port):
        yield silent_server


# --- Redis down: fail open -------------------------------------------------------------------


def test_the_product_list_is_served_from_the_database(redis_down):
    product = ProductFactory(stock=3)

    for _ in range(3):
        response = APIClient().get(api("products"))
        assert response.status_code == 200
        assert [p["id"] for p in response.json()["results"]] == [product.pk]


def test_register_and_login_answer_though_their_throttle_cannot_count(redis_down):
    registered = APIClient().post(
        api("auth/register"), {"email": "new@example.com", "password": PASSWORD}, format="json"
    )
    login = APIClient().post(
        api("auth/token"), {"email": "new@example.com", "password": PASSWORD}, format="json"
    )

    assert registered.status_code == 201
    assert login.status_code == 200
    assert set(login.json()) == {"access", "refresh"}


def test_checkout_works_on_postgresql_alone(redis_down):
    product = ProductFactory(stock=5)
    client = client_for(UserFactory())

    lines = {"items": [{"product_id": product.pk, "quantity": 2}]}

    response = client.post(api("orders/checkout"), lines, format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "created"  # the test Stripe refuses connections
    assert Order.objects.get().items.get().quantity == 2


def test_pages_and_sessions_keep_working(redis_down, client):
    customer = UserFactory()
    ProductFactory(stock=1)

    login = client.post(
        reverse("login"),
        urlencode({"username": customer.email, "password": PASSWORD}),
        content_type="application/x-www-form-urlencoded",
    )
    catalog = client.get(reverse("shop:catalog"))
    orders = client.get(reverse("orders:list"))

    assert login.status_code == 302
    assert catalog.status_code == 200
    assert orders.status_code == 200  # signed in: the session came from the database
    assert orders.context["user"] == customer


def test_a_hung_redis_costs_one_timeout_then_is_skipped(redis_hung, caplog):
    ProductFactory(stock=1)

    for _ in range(5):
        assert APIClient().get(api("products")).status_code == 200

    assert redis_hung.connections == 1  # then skipped for CACHE_RETRY_SECONDS
    warnings = [r.msg for r in caplog.records if r.name == "shop.cache"]
    assert [w["event"] for w in warnings] == ["cache_unavailable"]
    assert warnings[0]["error"].startswith("TimeoutError")


def test_each_operation_answers_as_a_miss_and_is_counted(redis_down):
    before = {op: fail_opens(op) for op in ("get", "set", "add", "incr", "delete", "get_many")}

    assert cache.get("k", "fallback") == "fallback"
    assert cache.set("k", 1) is None
    assert cache.add("k", 1) is True
    with pytest.raises(ValueError, match="not found"):
        cache.incr("k")
    assert cache.delete("k") is False
    assert cache.get_many(["a", "b"]) == {}

    assert {op: fail_opens(op) - before[op] for op in before} == {
        "get": 1,
        "set": 1,
        "add": 1,
        "incr": 1,
        "delete": 1,
        "get_many": 1,
    }


def test_production_settings_fail_open_with_short_timeouts(silent_server):
    """The settings module itself, with REDIS_URL at a Redis that never answers."""
    code = (
        "import django; django.setup()\n"
        "from django.core.cache import cache\n"
        "print(cache.get('key', 'fallback'), cache.get('key', 'fallback'))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "test",
        "JWT_SIGNING_KEY": "test",
        "REDIS_URL": f"redis://127.0.0.1:{silent_server.port}/0",
    }

    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fallback fallback"
    assert silent_server.connections == 1


# --- throttling: one round trip per request --------------------------------------------------


@pytest.fixture
def real_redis(settings):
    """Production's cache settings on a real Redis (the benchmark's database)."""
    port = int(BENCH_REDIS_URL.rsplit(":", 1)[1].split("/", 1)[0])
    with redis_at(settings, port):
        settings.CACHES["default"]["LOCATION"] = BENCH_REDIS_URL
        yield
    client = redis.Redis.from_url(BENCH_REDIS_URL)
    for key in client.scan_iter("*throttle-window_*"):
        client.delete(key)


@pytest.fixture
def redis_round_trips(monkeypatch):
    sent = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(conn, command, check_health=True):
        sent.append(command)
        return send(conn, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    return sent


def test_a_throttle_counts_in_one_round_trip_and_its_window_expires(real_redis, redis_round_trips):
    cache.count_hit("throttle-window_warm-up", 1)  # a new connection says hello first
    redis_round_trips.clear()

    hits = [cache.count_hit("throttle-window_checkout_1", 60) for _ in range(3)]

    assert [h for h, _ in hits] == [1, 2, 3]
    assert all(0 < left <= 60 for _, left in hits)
    assert len(redis_round_trips) == 3
    client = redis.Redis.from_url(BENCH_REDIS_URL)
    assert 0 < client.ttl(cache.make_key("throttle-window_checkout_1")) <= 60


def test_checkout_is_throttled_on_redis_with_the_window_left_as_retry_after(settings, real_redis):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "10/min", "checkout": "2/min"},
    }
    client = client_for(UserFactory())
    empty = {"items": [{"product_id": 10**9, "quantity": 1}]}  # 400: counted all the same

    answers = [client.post(api("orders/checkout"), empty, format="json") for _ in range(3)]

    assert [a.status_code for a in answers] == [400, 400, 429]
    assert answers[2].json()["code"] == "throttled"
    assert 0 < int(answers[2]["Retry-After"]) <= 60


def test_a_throttle_fails_open_and_is_counted(redis_down):
    before = fail_opens("count_hit")

    assert cache.count_hit("throttle-window_checkout_2", 60) == (0, 0)
    assert fail_opens("count_hit") - before == 1
