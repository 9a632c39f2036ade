"""A tiny run of the catalog benchmark (bench/catalog.py), so it cannot rot: it seeds its
own database, answers every case with 200 and prints the table. No timing is asserted."""

import os
import subprocess
import sys
from pathlib import Path

from bench import db
from bench.catalog import CASES, product_rows

ROOT = Path(__file__).resolve().parents[2]
SMALL_RUN = ["--products", "500", "--requests", "2", "--warmup", "0"]


def test_the_seed_is_reproducible_and_varied():
    rows = list(product_rows(2000))

    assert rows == list(product_rows(2000))
    assert len({row[0] for row in rows}) == 2000  # SKUs unique
    assert len({row[2] for row in rows}) == 2000  # slugs unique
    assert sum("mug" in row[1].split() for row in rows) > 10
    assert all(1 <= row[4] <= 500 for row in rows)


def test_a_small_run_seeds_measures_every_case_and_prints_the_table():
    server = os.environ["DATABASE_URL"]
    name = f"shop_search_bench_smoke_{os.getpid()}"
    try:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.catalog", *SMALL_RUN, "--db", name],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        db.drop_database(server, name)

    lines = done.stdout.splitlines()
    assert "Seeding 500 products" in lines[0]
    measured = [line for line in lines if " p50 " in line and not line.startswith("|")]
    assert len(measured) == 2 * len(CASES)  # the page and the API for each case
    table = lines[lines.index("| case | page p50 | page p95 | API p50 | API p95 | found |") :]
    assert len(table) == 2 + len(CASES)
    assert table[2].startswith("| first page |") and table[2].endswith("| 500 |")
    assert any(row.startswith("| search 'zzqx' (nothing) |") for row in table)
