"""The scale-out proof (`make scale-check`, part of `make test`), on this one machine.

Starts Debian's PgBouncer in transaction mode with deploy/pgbouncer/pgbouncer.ini (only
the listen address, auth and the database line replaced for loopback) on a free port,
then runs through it, with DATABASE_PGBOUNCER=true:
  - the concurrency, idempotency and payment tests (SCALE_TESTS below);
  - config/tests/test_scale_out.py: two gunicorn instances behind one nginx, each
    reaching PostgreSQL through this PgBouncer, with the race tests sent through nginx.
PgBouncer gets fewer server connections than the tests open client connections, so
transactions from different clients really share server connections.

The real PostgreSQL is the one in DATABASE_URL; the test database is
`test_<name>_pgbouncer`, made afresh on each run.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
INI = ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini"
# Fewer than the tests' concurrent clients (20-30 threads): they must take turns.
POOL_SIZE = 8
# Races of threads, of webhook deliveries and of the simulator against the shop, each
# with exact counts; the single-threaded checkout unit tests add nothing through PgBouncer.
SCALE_TESTS = [
    "orders/tests/test_concurrency.py",
    "orders/tests/test_api_concurrency.py",
    "orders/tests/test_coupon_concurrency.py",
    "payments/tests/test_webhooks.py",
    "payments/tests/test_payment_flow.py",
    "payments/tests/test_closing.py",
    "payments/tests/test_reconcile.py",
    "payments/tests/test_api_e2e.py",
    "payments/tests/test_invariants_random.py",
    "payments/tests/test_deposits.py",
    "payments/tests/test_wallet_payments.py",
    "payments/tests/test_earnings.py",
    "payments/tests/test_refunds.py",
    "wallets/tests/test_concurrency.py",
    "config/tests/test_scale_out.py",
]


def main(argv: list[str]) -> int:
    started = time.monotonic()
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop"))
    if url.scheme not in ("postgres", "postgresql"):
        sys.exit(f"scale-check needs PostgreSQL; DATABASE_URL is {url.geturl()!r}")
    missing = [name for name in ("pgbouncer", "nginx") if _binary(name) is None]
    if missing:
        sys.exit(
            f"scale-check needs Debian's {' and '.join(missing)}: "
            f"apt-get install {' '.join(missing)} (.ci/run installs them)"
        )
    user = url.username or "postgres"
    name = f"{url.path.lstrip('/') or 'shop'}_pgbouncer"
    _recreate_test_database(url, f"test_{name}")

    tmp = Path(tempfile.mkdtemp(prefix="shop-pgbouncer-"))
    # PgBouncer refuses to run as root: it switches to this user, who owns its files.
    run_as = _unprivileged_user() if os.geteuid() == 0 else None
    if run_as:
        shutil.chown(tmp, run_as)
    port = _free_port()
    (tmp / "userlist.txt").write_text(f'"{user}" "{url.password or ""}"\n')
    (tmp / "pgbouncer.ini").write_text(
        render_ini(
            INI.read_text(),
            listen_port=port,
            server=f"host={url.hostname or '127.0.0.1'} port={url.port or 5432}",
            settings={
                "listen_addr": "127.0.0.1",
                "auth_type": "trust",  # loopback only; the server side keeps its own auth
                "auth_file": str(tmp / "userlist.txt"),
                "admin_users": user,
                "logfile": str(tmp / "pgbouncer.log"),
                "pidfile": "",
                "unix_socket_dir": "",
                "default_pool_size": str(POOL_SIZE),
                "reserve_pool_size": "0",
                "log_connections": "0",
                "log_disconnections": "0",
            },
        )
    )
    command = [_binary("pgbouncer"), str(tmp / "pgbouncer.ini")]
    if run_as:
        command[1:1] = ["-u", run_as]
    # Its log goes to the file (printed if the run fails).
    bouncer = subprocess.Popen(  # noqa: S603 - Debian's pgbouncer, our config
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        if not _listening(port, bouncer):
            log = tmp / "pgbouncer.log"
            print(f"PgBouncer did not start:\n{log.read_text() if log.exists() else ''}")
            return 1
        through = f"postgres://{user}@127.0.0.1:{port}/{name}"
        print(f"PgBouncer (transaction mode, {POOL_SIZE} server connections) on {through}")
        env = {
            **os.environ,
            "DATABASE_URL": through,
            "DATABASE_PGBOUNCER": "true",
            "SCALE_CHECK": "1",
        }
        result = subprocess.run(  # noqa: S603 - our pytest
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *SCALE_TESTS, *argv],
            cwd=ROOT,
            env=env,
            check=False,
        )
        if result.returncode == 0:
            print(_pool_report(port, user, f"test_{name}"))
        else:
            print("PgBouncer's log:\n" + (tmp / "pgbouncer.log").read_text()[-3000:])
        return result.returncode
    finally:
        bouncer.terminate()
        bouncer.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"scale-check took {time.monotonic() - started:.0f} s")


def render_ini(text: str, *, listen_port: int, server: str, settings: dict[str, str]) -> str:
    """The deployed pgbouncer.ini with `settings` replaced and every database sent to
    `server` (a wildcard: the tests' database names are made up as they run)."""
    settings = {**settings, "listen_port": str(listen_port)}
    databases, _, rest = text.partition("[pgbouncer]")
    databases = re.sub(r"(?ms)^\[databases\].*", f"[databases]\n* = {server}\n\n", databases)
    for key, value in settings.items():
        rest, found = re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {value}", rest)
        if not found:
            rest += f"{key} = {value}\n"
    return f"{databases}[pgbouncer]{rest}"


def _recreate_test_database(url, test_name: str) -> None:
    import psycopg

    conninfo = url._replace(path="/postgres").geturl()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{test_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{test_name}"')
        # The suite empties the append-only tables (the audit log, the wallet ledger)
        # between transactional tests, which their triggers allow only where this is on.
        # conftest.py turns it on with SET per connection; behind PgBouncer a SET stays on
        # whichever server connection ran it, so the test database carries it instead
        # (never a production one).
        for setting in ("audit.allow_truncate", "wallets.allow_truncate"):
            conn.execute(f"ALTER DATABASE \"{test_name}\" SET {setting} = 'on'")


def _pool_report(port: int, user: str, database: str) -> str:
    import psycopg

    conninfo = f"postgres://{user}@127.0.0.1:{port}/pgbouncer"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cur = conn.cursor()
        cur.execute("SHOW STATS")
        columns = [c.name for c in cur.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    stats = next(row for row in rows if row["database"] == database)
    return (
        f"PgBouncer served {stats['total_xact_count']} transactions "
        f"({stats['total_query_count']} queries) on at most {POOL_SIZE} server connections"
    )


def _unprivileged_user() -> str:
    import pwd

    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:  # PostgreSQL runs elsewhere (a container): no postgres user here
        return "nobody"


def _binary(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int, proc: subprocess.Popen, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
