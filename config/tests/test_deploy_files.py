"""docker-compose.yml and deploy/nginx.conf, checked by reading them (no Docker engine here)."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from config.tests import stack

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


# deploy/nginx.conf run for real (Debian's nginx, config/tests/stack.py) in front of a
# backend that answers with the headers it received.


class _EchoHeaders(BaseHTTPRequestHandler):
    def do_GET(self):  # http.server's naming
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def proxied():
    backend = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    try:
        with stack.nginx([f"127.0.0.1:{backend.server_address[1]}"]) as (url, _log):
            yield url
    finally:
        backend.shutdown()
        backend.server_close()


def test_nginx_keeps_the_scheme_an_outer_tls_proxy_reported(proxied):
    # Overwritten with this hop's `http`, Django would redirect the https request to
    # https again: a redirect loop behind a load balancer that ends TLS.
    seen = httpx.get(f"{proxied}/", headers={"X-Forwarded-Proto": "https"}).json()
    assert seen["x-forwarded-proto"] == "https"


def test_nginx_says_http_when_no_proxy_reported_a_scheme(proxied):
    seen = httpx.get(f"{proxied}/").json()
    assert seen["x-forwarded-proto"] == "http"


def test_nginx_passes_the_host_with_its_port(proxied):
    # Django's CSRF origin check compares the Origin (http://localhost:8000) with the Host.
    seen = httpx.get(f"{proxied}/", headers={"Host": "localhost:8000"}).json()
    assert seen["host"] == "localhost:8000"
    assert seen["x-request-id"]


# .dockerignore: the image (`COPY . .`) takes neither the local venv nor secrets nor data.


def _docker_ignores(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its parent
    directories decides; `!` re-includes; `**` spans directories, `*` does not."""
    ignored = False
    parts = path.split("/")
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern.removeprefix("!").strip("/")
        regex = re.escape(body).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        prefixes = ("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def test_the_docker_build_context_leaves_out_local_state_and_secrets():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in (".venv/bin/python", ".env", ".env.production", "db.sqlite3", ".git/HEAD",
                 "shop/__pycache__/models.cpython-311.pyc", "staticfiles/app.css",
                 "test-results/page.png", "bench/results/run.json"):  # fmt: skip
        assert _docker_ignores(path, patterns), path
    # What the Dockerfile needs stays.
    for path in ("requirements.txt", "manage.py", "config/settings.py", "config/gunicorn.py",
                 "templates/base.html", "static/css/shop.css", "deploy/nginx.conf",
                 ".env.example"):  # fmt: skip
        assert not _docker_ignores(path, patterns), path
