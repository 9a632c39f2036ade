"""Run the deployment's own nginx and gunicorn configuration as local processes.

Docker does not run here, so the tests start Debian's nginx with deploy/nginx.conf (only
what Docker supplies is replaced: the upstream servers, the resolver and the listen
address) in front of gunicorn processes started with config/gunicorn.py, all on free
loopback ports, with their files in a temporary directory.
"""

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


def binary(name: str) -> str:
    """A Debian system binary (in /usr/sbin, which a non-root PATH may lack)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if path is None:
        pytest.fail(f"{name} not found: apt-get install {name} (.ci/run installs it)")
    return path


def render_nginx_conf(*, listen_port: int, upstreams: list[str]) -> str:
    """deploy/nginx.conf with Docker's parts replaced by loopback addresses."""
    site = NGINX_CONF.read_text()
    servers = "\n".join(f"    server {u} max_fails=3 fail_timeout=10s;" for u in upstreams)
    site, found = re.subn(r"^\s*server web:8000 resolve[^;]*;", servers, site, flags=re.M)
    assert found == 1, "deploy/nginx.conf: the `server web:8000 resolve ...` line moved"
    site, found = re.subn(r"^resolver [^;]*;\n", "", site, flags=re.M)
    assert found == 1, "deploy/nginx.conf: the `resolver` line moved"
    site, found = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen_port};", site)
    assert found == 1, "deploy/nginx.conf: `listen 80;` moved"
    return site


@contextlib.contextmanager
def nginx(upstreams: list[str]) -> Iterator[tuple[str, Path]]:
    """Debian's nginx with deploy/nginx.conf in front of `upstreams` ("host:port").

    Yields its URL and the file its access log (stdout) goes to.
    """
    tmp = Path(tempfile.mkdtemp(prefix="shop-nginx-"))
    tmp.chmod(0o755)  # nginx's workers run as another user when started by root
    port = free_port()
    (tmp / "site.conf").write_text(render_nginx_conf(listen_port=port, upstreams=upstreams))
    (tmp / "nginx.conf").write_text(
        f"""worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    )
    access_log = tmp / "access.log"
    with access_log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - Debian's nginx, our config
            [binary("nginx"), "-p", str(tmp), "-c", str(tmp / "nginx.conf"),
             "-e", str(tmp / "error.log"), "-g", "daemon off;"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        try:
            wait_for_port(port, proc, "nginx")
        except RuntimeError as exc:
            log = (tmp / "error.log").read_text() if (tmp / "error.log").exists() else ""
            raise RuntimeError(f"{exc}\n{log}") from exc
        yield f"http://127.0.0.1:{port}", access_log
    finally:
        _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def gunicorn(env: dict, *, workers: int = 2, threads: int = 4) -> Iterator[str]:
    """The shop under gunicorn with config/gunicorn.py on a free port; yields host:port."""
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="shop-gunicorn-", suffix=".log")  # noqa: SIM115
    proc = subprocess.Popen(  # noqa: S603 - our interpreter, our config
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application",
         "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads", str(threads)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        try:
            wait_for_port(port, proc, "gunicorn")
        except RuntimeError as exc:
            log.seek(0)
            raise RuntimeError(f"{exc}\n{log.read()[-3000:]}") from exc
        yield f"127.0.0.1:{port}"
    finally:
        _stop(proc)
        log.close()


def database_url(settings_dict: dict) -> str:
    """The URL of a Django database (the test database, for processes the tests start)."""
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else ""
    host, port = settings_dict["HOST"], settings_dict["PORT"]
    return f"postgres://{settings_dict['USER']}{password}@{host}:{port}/{settings_dict['NAME']}"


def production_env(**overrides: str) -> dict:
    """The environment of a production web node (DEBUG off), on plain HTTP over loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "NUM_PROXIES": "1",
            "LOG_LEVEL": "WARNING",
            "EMAIL_URL": "dummymail://",
        }
    )
    env.update(overrides)
    return env


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
