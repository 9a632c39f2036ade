"""What `make test` needs and says when it is missing: PostgreSQL and Redis, reachable as
docker-compose.test.yml publishes them, and a clear stop when either is not there."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEST_SERVICES = "docker compose -f docker-compose.test.yml up -d"


def run_pytest(**env) -> subprocess.CompletedProcess:
    # A tiny, database-free selection: only the start-up checks matter here.
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "core/tests/test_events.py", "--co"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


def test_an_unreachable_redis_stops_the_run_at_once_saying_how_to_start_it():
    result = run_pytest(CELERY_TEST_BROKER_URL="redis://127.0.0.1:9/0")

    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "Cannot connect to Redis at redis://127.0.0.1:9/0" in output
    assert f"`{TEST_SERVICES} redis`" in output


def test_an_unreachable_postgresql_stops_the_run_with_advice_that_works():
    result = run_pytest(DATABASE_URL="postgres://postgres@127.0.0.1:9/shop")

    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "Cannot connect to PostgreSQL" in output
    assert f"`{TEST_SERVICES} db`" in output
    assert "`docker compose up -d db`" not in output  # publishes no port, other login


def test_the_test_services_are_where_and_as_the_tests_expect_them():
    compose = yaml.safe_load((ROOT / "docker-compose.test.yml").read_text())["services"]
    db, redis = compose["db"], compose["redis"]
    assert db["image"] == "postgres:15"
    assert db["ports"] == ["127.0.0.1:5432:5432"]
    assert db["environment"] == {"POSTGRES_USER": "postgres", "POSTGRES_HOST_AUTH_METHOD": "trust"}
    assert redis["ports"] == ["127.0.0.1:6379:6379"]
    # ...which is what make test and pytest connect to by default.
    makefile = (ROOT / "Makefile").read_text()
    assert "TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/shop" in makefile
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"D:DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop"' in pyproject
    readme = (ROOT / "README.md").read_text()
    assert TEST_SERVICES in readme
    assert "docker compose up -d db" not in readme
