"""Project-wide test setup: the suite runs against real PostgreSQL and Redis servers."""

import os

import pytest

# The scale-out proof needs PgBouncer and nginx started around it: scripts/scale_check.py
# runs it with SCALE_CHECK=1 (part of `make test`); the plain run leaves it out rather
# than skipping it.
if os.environ.get("SCALE_CHECK") != "1":
    collect_ignore = ["config/tests/test_scale_out.py"]

# PostgreSQL and Redis as the tests expect them (docker-compose.yml's publish no port).
TEST_SERVICES = "docker compose -f docker-compose.test.yml up -d"


def pytest_configure(config):
    # Defaults for DATABASE_URL and the keys come from [tool.pytest.ini_options] env.
    url = os.environ["DATABASE_URL"]
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.exit(f"The tests need PostgreSQL; DATABASE_URL is {url!r}.", returncode=2)
    _require_postgres(url)
    _require_redis(os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/0"))
    from django.db.backends.signals import connection_created

    connection_created.connect(_allow_append_only_truncate, dispatch_uid="audit_allow_truncate")


def _require_postgres(url):
    import psycopg

    conninfo = url.rsplit("/", 1)[0] + "/postgres"
    try:
        psycopg.connect(conninfo, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.exit(
            f"Cannot connect to PostgreSQL at {conninfo}: {exc}\n"
            "Start it with `pg_ctlcluster 15 main start` (Debian), "
            f"`{TEST_SERVICES} db`, or point DATABASE_URL at a running server.",
            returncode=2,
        )


def _require_redis(url):
    # The Celery worker, readiness and benchmark tests talk to a real Redis.
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.exit(
            f"Cannot connect to Redis at {url}: {exc}\n"
            "Start it with `redis-server --daemonize yes` (Debian: apt-get install "
            f"redis-server), `{TEST_SERVICES} redis`, or point CELERY_TEST_BROKER_URL at "
            "a running server.",
            returncode=2,
        )


def _allow_append_only_truncate(sender, connection, **kwargs):
    """Let the test runner empty the append-only tables (the audit log, the wallet ledger)
    between transactional tests.

    The triggers installed by audit/migrations/0002 and wallets/migrations/0002 permit
    TRUNCATE only when the session opts in; production sessions never do.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET audit.allow_truncate = 'on'")
            cursor.execute("SET wallets.allow_truncate = 'on'")


@pytest.fixture(autouse=True)
def _test_settings(settings):
    from django.core.cache import cache

    # Cached pages and throttle counters must not leak from one test into the next.
    cache.clear()
    # PBKDF2's deliberate slowness buys nothing in tests and costs seconds per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production serves hashed files from collectstatic's manifest; tests render pages
    # without running collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def customer():
    from shop.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def superuser():
    from shop.tests.factories import StaffFactory

    return StaffFactory(is_superuser=True)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """A test's uploads (product images, thumbnails) go to its own temporary folder,
    never the work tree's media/."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def stripe_sim(settings):
    """The offline Stripe simulator on a free port, with the shop's settings pointed at it.

    Webhooks are not delivered anywhere until a test sets `stripe_sim.webhook_url`
    (see `stripe_sim_live`).
    """
    from payments.simulator import StripeSimulator

    sim = StripeSimulator(
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET, retry_delays=(0.2, 0.5, 1, 2)
    )
    sim.start()
    settings.STRIPE_API_BASE = sim.url
    yield sim
    sim.stop()


@pytest.fixture
def stripe_sim_live(stripe_sim, live_server):
    """The simulator delivering signed webhooks to the shop under pytest-django's live server."""
    stripe_sim.webhook_url = f"{live_server.url}/webhooks/stripe/"
    return stripe_sim


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never answers (a hung Redis or Stripe)."""
    from core.tests.helpers import SilentServer

    server = SilentServer().start()
    yield server
    server.stop()
