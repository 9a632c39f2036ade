"""The benchmark's own database on the configured server, seeding, and pg_test_fsync."""

import os
import re
import shutil
import subprocess
import tempfile
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

HOT_STOCK = 1_000_000_000
SPREAD_STOCK = 10_000_000
SPREAD_PRODUCTS = 1000


def with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def conninfo(url: str) -> str:
    """A DATABASE_URL (postgres:// or postgresql://) as a libpq URI."""
    return re.sub(r"^postgres://", "postgresql://", url)


def create_database(server_url: str, dbname: str) -> str:
    with psycopg.connect(conninfo(with_dbname(server_url, "postgres")), autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return with_dbname(server_url, dbname)


def drop_database(server_url: str, dbname: str) -> None:
    with psycopg.connect(conninfo(with_dbname(server_url, "postgres")), autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def seed_products(*, prefix: str, count: int, stock: int) -> list[int]:
    """`count` active products with `stock` units each (received = available = stock)."""
    from decimal import Decimal

    from shop.models import Inventory, Product

    products = Product.objects.bulk_create(
        Product(
            sku=f"{prefix}-{i:05d}",
            name=f"Bench {prefix} {i}",
            slug=f"bench-{prefix}-{i:05d}".lower(),
            price=Decimal("9.99") + i % 50,
            # Not shipped: the plain arms check out as before v1.1; the service_goods arm
            # marks them shipped for its cells.
            requires_shipping=False,
        )
        for i in range(count)
    )
    Inventory.objects.bulk_create(
        Inventory(product=p, available=stock, reserved=0, received=stock) for p in products
    )
    return sorted(p.pk for p in products)


def seed_users(*, prefix: str, count: int) -> list:
    """Customers sharing one password hash (hashed once: PBKDF2 is slow on purpose)."""
    from django.contrib.auth.hashers import make_password

    from shop.models import User

    password = make_password("bench-password-not-secret")
    return User.objects.bulk_create(
        User(email=f"{prefix}-{i}@bench.example", password=password) for i in range(count)
    )


def access_tokens(users) -> list[str]:
    from rest_framework_simplejwt.tokens import RefreshToken

    return [str(RefreshToken.for_user(u).access_token) for u in users]


def server_settings(conn: psycopg.Connection) -> dict:
    names = (
        "server_version",
        "data_directory",
        "fsync",
        "synchronous_commit",
        "wal_sync_method",
        "shared_buffers",
        "max_connections",
        "commit_delay",
    )
    return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}


def pg_test_fsync(data_directory: str | None, seconds: int = 1) -> dict:
    """Run pg_test_fsync on the filesystem of PostgreSQL's data directory when it can."""
    exe = shutil.which("pg_test_fsync")
    if exe is None:
        for candidate in (
            sorted(os.listdir("/usr/lib/postgresql"), reverse=True)
            if os.path.isdir("/usr/lib/postgresql")
            else []
        ):
            path = f"/usr/lib/postgresql/{candidate}/bin/pg_test_fsync"
            if os.path.exists(path):
                exe = path
                break
    if exe is None:
        return {"available": False, "reason": "pg_test_fsync not found"}
    where = tempfile.gettempdir()
    if data_directory:
        parent = os.path.dirname(data_directory.rstrip("/"))
        try:
            if os.stat(parent).st_dev != os.stat(where).st_dev and os.access(parent, os.W_OK):
                where = parent
        except OSError:
            pass
    fd, path = tempfile.mkstemp(prefix="bench_fsync_", dir=where)
    os.close(fd)
    try:
        out = subprocess.run(  # noqa: S603
            [exe, "-s", str(seconds), "-f", path], capture_output=True, text=True, timeout=300
        ).stdout
    finally:
        if os.path.exists(path):
            os.unlink(path)
    one_write = out.split("one 8kB write", 1)[-1].split("Compare file sync methods using two", 1)[0]
    methods = {}
    for line in one_write.splitlines():
        m = re.match(r"\s+(\S+)\s+([\d.]+) ops/sec\s+(\d+) usecs/op", line)
        if m:
            methods[m.group(1)] = {"ops_per_s": float(m.group(2)), "usecs_per_op": int(m.group(3))}
    same_fs = None
    if data_directory:
        try:
            same_fs = os.stat(where).st_dev == os.stat(os.path.dirname(data_directory)).st_dev
        except OSError:
            same_fs = None
    return {
        "available": True,
        "dir": where,
        "same_fs_as_data_dir": same_fs,
        "wal_sync_method_hint": "see server.wal_sync_method",
        "one_8kB_write": methods,
    }
