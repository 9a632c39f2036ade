"""Catalog benchmark: `python -m bench.catalog [--products N] [--requests N] [--reseed]`.

Seeds N products (default 100,000) into their own database on the server of DATABASE_URL
(`shop_search_bench` unless `--db`), kept between runs (a run with the same N reuses it),
then times the catalog page (HTML) and `GET /api/v1/products` for several searches,
filters and sort orders, in this process through Django's test client, one request at a
time, and prints p50/p95/max per case. See bench/README.md ("Catalog").

The product list's short cache (CATALOG_CACHE_SECONDS) is off: the figures are the work
of a request that reaches the database.
"""

import argparse
import logging
import os
import random
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

from bench import db
from bench.common import percentile

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shop"
DEFAULT_DB = "shop_search_bench"

ADJECTIVES = [
    "Rustic", "Classic", "Modern", "Compact", "Vintage", "Sturdy", "Slim", "Large",
    "Small", "Handmade", "Folding", "Travel", "Premium", "Everyday", "Nordic", "Bold",
    "Soft", "Bright", "Quiet", "Smart", "Round", "Square", "Tall", "Light",
]  # fmt: skip
MATERIALS = [
    "oak", "walnut", "bamboo", "steel", "brass", "copper", "enamel", "ceramic",
    "stoneware", "glass", "linen", "cotton", "wool", "leather", "canvas", "cork",
]  # fmt: skip
NOUNS = [
    "mug", "kettle", "teapot", "cup", "bowl", "plate", "jar", "vase", "lamp", "clock",
    "chair", "stool", "bench", "table", "shelf", "basket", "box", "tray", "board", "knife",
    "spoon", "fork", "pan", "pot", "bottle", "flask", "tote", "bag", "wallet", "belt",
    "scarf", "hat", "cap", "glove", "sock", "blanket", "pillow", "rug", "towel", "apron",
    "notebook", "pen", "pencil", "ruler", "desk", "frame", "mirror", "candle", "planter",
    "watering can", "umbrella", "backpack", "journal", "coaster", "grinder", "whisk",
    "ladle", "colander", "skillet", "toaster",
]  # fmt: skip
FEATURES = [
    "dishwasher safe", "made to last", "easy to clean", "packed flat", "with a lifetime "
    "guarantee", "finished by hand", "light enough to carry", "gift wrapped on request",
]  # fmt: skip

# (label, query string): what customers do most, from a broad first page to a typo.
# {search} is the search parameter (`q` on the page, `search` in the API); {deep_page} is
# 100 at 100,000 products (fewer products, an earlier page that exists).
CASES = [
    ("first page", ""),
    ("page 100", "page={deep_page}"),
    ("search 'mug' (broad)", "{search}=mug"),
    ("search 'mugs' (stem)", "{search}=mugs"),
    ("search 'ketle' (typo)", "{search}=ketle"),
    ("search 'walnut chair'", "{search}=walnut+chair"),
    ("search 'MUG-00012' (SKU prefix)", "{search}=MUG-00012"),
    ("search 'zzqx' (nothing)", "{search}=zzqx"),
    ("price 20-40", "min_price=20&max_price=40"),
    ("in stock, by price", "in_stock=true&ordering=price"),
    ("newest", "ordering=newest"),
    ("'mug' + in stock + -price", "{search}=mug&in_stock=true&ordering=-price"),
    ("'oak' + price 10-50", "{search}=oak&min_price=10&max_price=50"),
]


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.catalog", description=__doc__.split("\n")[0])
    p.add_argument("--products", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=40, help="measured requests per case")
    p.add_argument("--warmup", type=int, default=3, help="requests per case before measuring")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database name (default {DEFAULT_DB})")
    p.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    return p.parse_args(argv)


# --- seeding ---------------------------------------------------------------------------


def product_rows(count: int, *, seed: int = 17):
    """`count` products as COPY rows: names from a small vocabulary (so searches match
    hundreds or thousands), SKUs by noun, prices 1.00-500.00, a year of creation dates."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(count):
        adjective, material = rng.choice(ADJECTIVES), rng.choice(MATERIALS)
        noun = rng.choice(NOUNS)
        name = f"{adjective} {material} {noun}"
        created = start + timedelta(seconds=rng.randrange(365 * 86400))
        yield (
            f"{noun[:3].upper()}-{i:06d}",
            name,
            f"{name.lower().replace(' ', '-')}-{i}",
            f"A {rng.choice(ADJECTIVES).lower()} {noun} in {material}, {rng.choice(FEATURES)}.",
            Decimal(rng.randrange(100, 50_000)) / 100,
            "usd",
            True,
            created,
            created,
            "standalone",
            "[]",
            "{}",
            True,
        )


def seed(conninfo: str, count: int) -> float:
    """COPY the products (the search trigger fills their vectors), give 90% of them stock,
    then VACUUM ANALYZE as autovacuum would have by now. Returns the seconds it took."""
    began = time.perf_counter()
    columns = (
        "sku, name, slug, description, price, currency, is_active, created_at, updated_at,"
        " structure, option_names, options, requires_shipping"
    )
    with psycopg.connect(conninfo) as conn:
        with conn.cursor().copy(f"COPY shop_product ({columns}) FROM STDIN") as copy:
            for row in product_rows(count):
                copy.write_row(row)
        conn.execute(
            "INSERT INTO shop_inventory (product_id, available, reserved, received, updated_at)"
            " SELECT id, s, 0, s, now() FROM ("
            "   SELECT id, CASE WHEN id % 10 = 0 THEN 0 ELSE id % 97 + 1 END AS s"
            "   FROM shop_product) stock"
        )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE shop_product")
        conn.execute("VACUUM ANALYZE shop_inventory")
    return time.perf_counter() - began


def product_count(conninfo: str) -> int | None:
    try:
        with psycopg.connect(conninfo) as conn:
            return conn.execute("SELECT count(*) FROM shop_product").fetchone()[0]
    except psycopg.Error:
        return None


def prepare(server_url: str, args) -> str:
    """The benchmark database, migrated and seeded with `args.products` products."""
    url = db.with_dbname(server_url, args.db)
    if not args.reseed and product_count(db.conninfo(url)) == args.products:
        print(f"Reusing {args.db}: {args.products:,} products.")
        return url
    db.drop_database(server_url, args.db)
    db.create_database(server_url, args.db)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true", "ENV_FILE": ""}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    print(f"Seeding {args.products:,} products into {args.db} ...", flush=True)
    seconds = seed(db.conninfo(url), args.products)
    print(f"Seeded in {seconds:.1f} s.")
    return url


# --- measuring -------------------------------------------------------------------------


def setup_django(database_url: str) -> None:
    """Production settings (DEBUG off) in this process, on the benchmark database."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ENV_FILE": "",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(40),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "CATALOG_CACHE_SECONDS": "0",
        }
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    # One access-log line per request would bury the table (and time the terminal).
    logging.getLogger("shop.request").setLevel(logging.WARNING)


def measure(client, url: str, *, requests: int, warmup: int) -> dict:
    for _ in range(warmup):
        client.get(url)
    timings = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
    timings.sort()
    return {
        "p50": percentile(timings, 50) * 1000,
        "p95": percentile(timings, 95) * 1000,
        "max": timings[-1] * 1000,
        "count": _result_count(response),
    }


def _result_count(response) -> int | None:
    """How many products matched (the API says; the page shows it only as page count)."""
    if response["Content-Type"].startswith("application/json"):
        return response.json()["count"]
    return None


def run_cases(args) -> list[dict]:
    from django.test import Client, override_settings

    client = Client()
    rows = []
    # Static file names unhashed: the test client has no collected manifest to read.
    storages = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    surfaces = (("page", "/", "q"), ("api", "/api/v1/products", "search"))
    with override_settings(STORAGES={**storages, "default": _default_storage()}):
        for label, query in CASES:
            for surface, path, search in surfaces:
                deep_page = max(1, args.products // 1000)
                params = query.format(search=search, deep_page=deep_page)
                url = f"{path}?{params}" if params else path
                figures = measure(client, url, requests=args.requests, warmup=args.warmup)
                rows.append({"case": label, "surface": surface, **figures})
                found = "" if figures["count"] is None else f"{figures['count']:>7,} found"
                print(
                    f"{label:34} {surface:4} p50 {figures['p50']:7.1f} ms  p95 "
                    f"{figures['p95']:7.1f} ms  max {figures['max']:7.1f} ms  {found}",
                    flush=True,
                )
    return rows


def _default_storage() -> dict:
    from django.conf import settings

    return settings.STORAGES["default"]


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    server_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not server_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("The benchmark needs PostgreSQL: DATABASE_URL must be postgres://...")
    url = prepare(server_url, args)
    setup_django(url)
    print(
        f"{args.products:,} products; {args.requests} requests per case after {args.warmup} "
        "warm-up requests; milliseconds per request, one at a time, in-process (test client)."
    )
    print_table(run_cases(args))
    return 0


def print_table(rows: list[dict]) -> None:
    """The figures as the Markdown table of bench/README.md."""
    print("\n| case | page p50 | page p95 | API p50 | API p95 | found |")
    print("|---|--:|--:|--:|--:|--:|")
    by_case = {}
    for row in rows:
        by_case.setdefault(row["case"], {})[row["surface"]] = row
    for case, cell in by_case.items():
        page, api = cell["page"], cell["api"]
        print(
            f"| {case} | {page['p50']:.0f} | {page['p95']:.0f} | {api['p50']:.0f} | "
            f"{api['p95']:.0f} | {api['count']:,} |"
        )


if __name__ == "__main__":
    raise SystemExit(main())
