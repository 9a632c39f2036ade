"""The settings as the environment makes them: `.env.example` loaded as it is, and the
database settings for PgBouncer. Each case imports config.settings in a fresh process
with only the variables given."""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / ".env.example"

PRINT_SETTINGS = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
from django.conf import settings
names = {names!r}
print(json.dumps({{name: getattr(settings, name) for name in names}}, default=str))
"""


def load_settings(env: dict, *names: str) -> dict:
    result = subprocess.run(  # noqa: S603 - our interpreter and code
        [sys.executable, "-c", PRINT_SETTINGS.format(names=list(names))],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_example_env_file_loads_as_it_is_and_means_what_it_says():
    # As a newcomer does: copy it to .env and start. django-environ keeps a comment on a
    # value's line as part of the value ("60   # seconds" crashed int()), so the file
    # keeps comments on their own lines.
    loaded = load_settings(
        {"ENV_FILE": str(EXAMPLE)},
        "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASES", "CACHES", "RESERVATION_TTL",
        "SHOP_CURRENCY", "STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STOCK_DRIFT_AUTOFIX",
        "CATALOG_CACHE_SECONDS", "REST_FRAMEWORK", "METRICS_ALLOWED_NETWORKS",
        "EMAIL_TIMEOUT", "CELERY_TASK_ALWAYS_EAGER",
    )  # fmt: skip

    assert loaded["DEBUG"] is True
    assert loaded["SECRET_KEY"] == "django-insecure-development-only-key"
    assert loaded["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    database = loaded["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert loaded["RESERVATION_TTL"] == "0:15:00"
    assert loaded["SHOP_CURRENCY"] == "usd"
    assert loaded["STRIPE_SECRET_KEY"] == "sk_test_simulator"
    assert loaded["STRIPE_API_BASE"] == ""
    assert loaded["STOCK_DRIFT_AUTOFIX"] is False
    assert loaded["CATALOG_CACHE_SECONDS"] == 5
    assert loaded["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"] == {
        "auth": "10/min",
        "checkout": "30/min",
        "guest": "10/min",
    }
    assert loaded["METRICS_ALLOWED_NETWORKS"] == ["127.0.0.1/32"]
    assert loaded["EMAIL_TIMEOUT"] == 20
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is True
    # With a PostgreSQL URL from the environment, the example's database lines apply.
    with_postgres = load_settings(
        {"ENV_FILE": str(EXAMPLE), "DATABASE_URL": "postgres://shop:pw@db:5432/shop"},
        "DATABASES",
    )["DATABASES"]["default"]
    assert with_postgres["CONN_MAX_AGE"] == 60
    assert "pool" not in with_postgres.get("OPTIONS", {})
    assert "DISABLE_SERVER_SIDE_CURSORS" not in with_postgres


def test_no_value_in_the_example_carries_a_comment():
    for line in EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), line
            assert "#" not in value and value == value.strip(), line


def test_the_example_names_every_variable_the_settings_read():
    settings_py = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_py))
    listed = set(re.findall(r"(?m)^(?:# )?([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text()))
    assert read, "no env(...) call found in config/settings.py"
    assert read - listed == set(), "add these to .env.example"


def test_behind_pgbouncer_nothing_outlives_a_transaction():
    loaded = load_settings(
        {
            "DEBUG": "true",
            "DATABASE_URL": "postgres://shop:pw@pgbouncer:6432/shop",
            "DATABASE_PGBOUNCER": "true",
            "CONN_MAX_AGE": "120",
        },
        "DATABASES",
    )

    database = loaded["DATABASES"]["default"]
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert database["OPTIONS"]["prepare_threshold"] is None
    assert "pool" not in database["OPTIONS"]
    # The kept connection is to PgBouncer, which lends a server connection per transaction.
    assert database["CONN_MAX_AGE"] == 120


def test_without_pgbouncer_server_side_cursors_stay_available():
    loaded = load_settings(
        {"DEBUG": "true", "DATABASE_URL": "postgres://shop:pw@db:5432/shop"}, "DATABASES"
    )

    assert loaded["DATABASES"]["default"].get("DISABLE_SERVER_SIDE_CURSORS", False) is False


def test_pgbouncer_and_psycopgs_pool_together_are_refused():
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "ENV_FILE": "",
            "DEBUG": "true",
            "DATABASE_URL": "postgres://shop:pw@pgbouncer:6432/shop",
            "DATABASE_PGBOUNCER": "true",
            "DATABASE_POOL": "true",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "DATABASE_POOL and DATABASE_PGBOUNCER" in result.stderr


def test_media_lives_on_the_file_system_unless_a_bucket_is_named():
    local = load_settings({"DEBUG": "true"}, "STORAGES", "MEDIA_URL", "MEDIA_ROOT")
    assert local["STORAGES"]["default"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }
    assert (local["MEDIA_URL"], local["MEDIA_ROOT"]) == ("/media/", str(ROOT / "media"))

    bucket = load_settings(
        {
            "DEBUG": "true",
            "MEDIA_BUCKET": "shop-media",
            "MEDIA_ENDPOINT_URL": "https://s3.example.net",
            "MEDIA_REGION": "eu-central-1",
        },
        "STORAGES",
        "CONTENT_SECURITY_POLICY",
    )
    default = bucket["STORAGES"]["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    assert default["OPTIONS"] == {
        "bucket_name": "shop-media",
        "region_name": "eu-central-1",
        "endpoint_url": "https://s3.example.net",
        "custom_domain": None,
        "querystring_auth": False,
        "file_overwrite": False,
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
    }
    # Pages may show images from the provider, path-style or virtual-hosted.
    img_src = bucket["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"]
    assert img_src[-2:] == ["https://s3.example.net", "https://shop-media.s3.example.net"]

    cdn = load_settings(
        {"DEBUG": "true", "MEDIA_BUCKET": "shop-media", "MEDIA_DOMAIN": "media.example.com"},
        "STORAGES",
        "CONTENT_SECURITY_POLICY",
    )
    assert cdn["STORAGES"]["default"]["OPTIONS"]["custom_domain"] == "media.example.com"
    assert cdn["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"][-1] == (
        "https://media.example.com"
    )


def test_image_urls_from_the_bucket_are_plain_and_permanent():
    # The storage builds URLs itself (no request to the provider): no signature that
    # would expire inside a cached page.
    from storages.backends.s3 import S3Storage

    storage = S3Storage(
        bucket_name="shop-media", custom_domain="media.example.com", querystring_auth=False
    )
    assert storage.url("products/2026/12/mug.jpg") == (
        "https://media.example.com/products/2026/12/mug.jpg"
    )
