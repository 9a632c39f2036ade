"""docker-compose.yml and deploy/nginx.conf, checked by reading them (no Docker engine here)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_compose_has_the_whole_topology_each_with_a_health_check(services):
    assert set(services) == {
        "db", "pgbouncer", "redis", "migrate", "web", "worker", "beat", "nginx",
        "stripe-simulator",
    }  # fmt: skip
    for name, service in services.items():
        if name != "migrate":  # one-shot: it exits when done
            assert service["healthcheck"]["test"], name


def test_only_the_one_shot_service_migrates_and_the_app_waits_for_it(services):
    migrating = [n for n, s in services.items() if "migrate" in " ".join(s.get("command", []))]
    assert migrating == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
        assert services[name]["depends_on"]["pgbouncer"] == {"condition": "service_healthy"}


def test_web_can_scale_behind_nginx(services):
    web, nginx = services["web"], services["nginx"]
    assert "ports" not in web  # replicas would fight over a published host port
    assert web["command"][:3] == ["gunicorn", "-c", "config/gunicorn.py"]
    assert (ROOT / web["command"][2]).is_file()
    assert nginx["ports"] == ["8000:80"]
    assert nginx["depends_on"] == {"web": {"condition": "service_healthy"}}
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]


def test_the_app_reaches_postgresql_through_pgbouncer_in_transaction_mode(services):
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"] == "postgres://shop:shop@pgbouncer:6432/shop", name
        assert env["DATABASE_PGBOUNCER"] == "true", name
    # A migration holds its session; it goes straight to PostgreSQL.
    assert services["migrate"]["environment"]["DATABASE_URL"] == "postgres://shop:shop@db:5432/shop"
    assert services["migrate"]["environment"]["DATABASE_PGBOUNCER"] == "false"
    pgbouncer = services["pgbouncer"]
    assert pgbouncer["build"] == "deploy/pgbouncer"
    assert pgbouncer["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "ports" not in pgbouncer
    for mount in pgbouncer["volumes"]:
        assert (ROOT / mount.split(":")[0]).is_file(), mount
    dockerfile = (ROOT / "deploy" / "pgbouncer" / "Dockerfile").read_text()
    assert "apt-get install" in dockerfile and " pgbouncer " in dockerfile  # Debian's package
    ini = _ini(ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini")
    assert ini["pgbouncer"]["pool_mode"] == "transaction"
    assert ini["pgbouncer"]["listen_port"] == "6432"
    assert ini["databases"]["shop"] == "host=db port=5432 dbname=shop"
    # The password PgBouncer presents to PostgreSQL is the compose database's.
    userlist = (ROOT / "deploy" / "pgbouncer" / "userlist.txt").read_text().split()
    assert userlist == [
        f'"{services["db"]["environment"]["POSTGRES_USER"]}"',
        f'"{services["db"]["environment"]["POSTGRES_PASSWORD"]}"',
    ]


def _ini(path):
    import configparser

    parser = configparser.ConfigParser(comment_prefixes=(";", "#"), interpolation=None)
    parser.read(path)
    return parser


def test_workers_and_beat_run_celery_with_redis(services):
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name in ("web", "worker", "beat", "migrate"):
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
    # The simulator delivers webhooks through the proxy, so any web replica takes them.
    assert "http://nginx/webhooks/stripe/" in services["stripe-simulator"]["command"]
    assert "nginx" in services["web"]["environment"]["ALLOWED_HOSTS"].split(",")


def test_nginx_buffers_for_sync_workers_and_passes_the_client_details():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    directives = dict(
        re.findall(r"^\s*(proxy_request_buffering|proxy_buffering)\s+(\w+);", conf, re.M)
    )
    assert directives == {"proxy_request_buffering": "on", "proxy_buffering": "on"}
    assert re.search(r"server web:8000 resolve", conf)
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Request-ID", "Host"):
        assert f"proxy_set_header {header} " in conf
    assert conf.count("{") == conf.count("}")
