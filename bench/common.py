"""Pieces every arm shares: scenarios, latency statistics, CPU and lock-wait sampling.

No Django imports here: the load generator (a separate process) uses this module too.
"""

import math
import random
import threading
import time
from dataclasses import dataclass, field

import psycopg


@dataclass(frozen=True)
class Scenario:
    """What the clients buy. `hot`: one unit of one product; `spread`: 1-5 distinct
    products (of `product_ids`) in random order, 1-3 units each; `soldout`: one unit of a
    product with little stock, one request per client."""

    name: str
    product_ids: tuple[int, ...]
    # With `lines`, every cart has exactly that many distinct products, one unit each
    # (bench.growth's carts of 1, 10 and 50 lines).
    lines: int = 0

    def cart(self, rng: random.Random) -> list[tuple[int, int]]:
        if self.lines:
            return [(pid, 1) for pid in rng.sample(self.product_ids, self.lines)]
        if self.name == "spread":
            picked = rng.sample(self.product_ids, rng.randint(1, 5))
            return [(pid, rng.randint(1, 3)) for pid in picked]
        return [(self.product_ids[0], 1)]

    def to_json(self) -> dict:
        return {"name": self.name, "product_ids": list(self.product_ids), "lines": self.lines}

    @classmethod
    def from_json(cls, data: dict) -> "Scenario":
        return cls(data["name"], tuple(data["product_ids"]), data.get("lines", 0))


class Exhausted(Exception):
    """A client ran out of prepared work (the wallet arms' queue of orders to pay): it
    stops, and the cell counts it as an error, so a seed too small fails loudly."""

    outcome = "exhausted"


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(p / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def latency_summary(latencies: list[float]) -> dict:
    """Milliseconds: p50/p95/p99/max/mean of successful checkouts."""
    values = sorted(latencies)
    ms = lambda v: None if v is None else round(v * 1000, 2)  # noqa: E731
    return {
        "p50_ms": ms(percentile(values, 50)),
        "p95_ms": ms(percentile(values, 95)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(values[-1] if values else None),
        "mean_ms": ms(sum(values) / len(values) if values else None),
    }


@dataclass
class Recorder:
    """Per-client record of outcomes; only requests started inside the window count."""

    window_start: float
    window_end: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    queries: int = 0
    counted: int = 0
    all_ok: int = 0  # successes in and out of the window (for the order-count invariant)

    def add(self, started: float, latency: float, outcome: str, queries: int = 0) -> None:
        if outcome == "ok":
            self.all_ok += 1
        if not self.window_start <= started < self.window_end:
            return
        self.counted += 1
        self.queries += queries
        if outcome == "ok":
            self.latencies.append(latency)
        else:
            self.errors[outcome] = self.errors.get(outcome, 0) + 1


def merge(recorders: list[Recorder], seconds: float) -> dict:
    latencies = [v for r in recorders for v in r.latencies]
    errors: dict[str, int] = {}
    for r in recorders:
        for kind, n in r.errors.items():
            errors[kind] = errors.get(kind, 0) + n
    counted = sum(r.counted for r in recorders)
    return {
        "checkouts": len(latencies),
        "checkouts_per_s": round(len(latencies) / seconds, 1) if seconds else None,
        "requests": counted,
        "errors": errors,
        "queries_per_checkout": round(sum(r.queries for r in recorders) / counted, 2)
        if counted and any(r.queries for r in recorders)
        else None,
        **latency_summary(latencies),
    }


def _process_ticks() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, command, user+system clock ticks) for every process."""
    out = {}
    import os

    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        out[int(entry)] = (int(fields[1]), comm, int(fields[11]) + int(fields[12]))
    return out


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) used so far by `root` and every process under it that
    is still running (gunicorn's master and its workers)."""
    import os

    procs = _process_ticks()
    ours, changed = {root}, True
    while changed:
        changed = False
        for pid, (ppid, _comm, _t) in procs.items():
            if ppid in ours and pid not in ours:
                ours.add(pid)
                changed = True
    ticks = sum(procs[pid][2] for pid in ours if pid in procs)
    return ticks / os.sysconf("SC_CLK_TCK")


def foreign_ticks(before: dict, after: dict, root: int, foreign_pids=frozenset()) -> int:
    """CPU ticks used between two snapshots by processes outside `root`'s tree that are
    not PostgreSQL (other people's work on a shared machine)."""
    import os

    ours = {root}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _comm, _t) in after.items():
            if ppid in ours and pid not in ours:
                ours.add(pid)
                changed = True
    total = 0
    for pid, (_ppid, comm, ticks) in after.items():
        if pid in ours or pid == os.getpid():
            continue
        if comm.startswith("postgres") and pid not in foreign_pids:
            continue
        total += ticks - before.get(pid, (0, "", 0))[2]
    return total


def _cpu_times() -> tuple[float, float]:
    with open("/proc/stat") as f:
        parts = [float(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]  # idle + iowait
    return sum(parts), idle


class Sampler:
    """While running: the machine's CPU use (/proc/stat) and, every `interval` seconds,
    the sessions of `dbname` waiting on a lock in pg_stat_activity."""

    def __init__(self, conninfo: str, dbname: str, interval: float = 0.02):
        self.conninfo, self.dbname, self.interval = conninfo, dbname, interval
        self.samples: list[int] = []
        self._stop = threading.Event()

    def __enter__(self):
        self._conn = psycopg.connect(self.conninfo, autocommit=True)
        self._stats0 = self._db_stats()
        self._cpu0 = _cpu_times()
        self._procs0 = _process_ticks()
        self._wall0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _db_stats(self) -> tuple[int, int, int]:
        row = self._conn.execute(
            "SELECT deadlocks, xact_commit, xact_rollback FROM pg_stat_database WHERE datname = %s",
            (self.dbname,),
        ).fetchone()
        return tuple(row)

    def _run(self):
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            query = (
                "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()"
            )
            while not self._stop.wait(self.interval):
                self.samples.append(conn.execute(query, (self.dbname,)).fetchone()[0])

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        import os

        # PostgreSQL backends serving other databases (other people's tests) are foreign too.
        others = {
            pid
            for pid, datname in self._conn.execute("SELECT pid, datname FROM pg_stat_activity")
            if datname is not None and datname != self.dbname
        }
        ticks = foreign_ticks(self._procs0, _process_ticks(), os.getpid(), others)
        elapsed = time.monotonic() - self._wall0
        self.foreign_cpu = ticks / os.sysconf("SC_CLK_TCK") / elapsed if elapsed else None
        total1, idle1 = _cpu_times()
        total0, idle0 = self._cpu0
        self.cpu_busy = 1 - (idle1 - idle0) / (total1 - total0) if total1 > total0 else None
        # pg_stat_database is refreshed when a transaction ends; a fresh snapshot:
        self._conn.execute("SELECT pg_stat_clear_snapshot()")
        self.stats_delta = [b - a for a, b in zip(self._stats0, self._db_stats(), strict=True)]
        self._conn.close()

    def result(self) -> dict:
        n = len(self.samples)
        return {
            "lock_waiters_mean": round(sum(self.samples) / n, 2) if n else None,
            "lock_waiters_max": max(self.samples) if n else None,
            "lock_wait_sampled_pct": round(100 * sum(1 for s in self.samples if s) / n, 1)
            if n
            else None,
            "lock_samples": n,
            "machine_cpu_busy_pct": round(100 * self.cpu_busy, 1)
            if self.cpu_busy is not None
            else None,
            # CPU used by processes other than the benchmark's and PostgreSQL's, in % of one
            # core: other work on a shared machine that the figures suffered from.
            "foreign_cpu_pct": round(100 * self.foreign_cpu, 1)
            if self.foreign_cpu is not None
            else None,
            "pg_deadlocks": self.stats_delta[0],
            "pg_xact_commit": self.stats_delta[1],
            "pg_xact_rollback": self.stats_delta[2],
        }


def run_clients(client, *, concurrency: int, warmup: float, duration: float):
    """Run `client(index, ready)` in `concurrency` threads and wait for them all.

    Each client prepares (its connection, say), then calls `ready()`, which blocks until
    every client is ready and returns the measured window `(from, until)`: the clients
    start together, warm up until `from` and stop at `until`. Returns the CPU seconds
    this process used and the seconds that passed.
    """
    barrier = threading.Barrier(concurrency + 1)
    window: list[float] = []

    def ready() -> tuple[float, float]:
        barrier.wait()
        return window[0], window[1]

    threads = [threading.Thread(target=client, args=(i, ready)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    cpu0 = process_cpu_seconds()
    start = now()
    window.extend([start + warmup, start + warmup + duration])
    barrier.wait()
    for thread in threads:
        thread.join()
    return process_cpu_seconds() - cpu0, now() - start


def process_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def now() -> float:
    return time.perf_counter()
