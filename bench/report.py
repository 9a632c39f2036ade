"""The terminal table and the ratios against the raw-SQL floor."""

# At 8 clients, hot and spread: issue 7's service target, issue 18's HTTP targets (of the
# raw floor, and of the HTTP floor without the framework, `http_raw`).
TARGETS = {"service": 0.70, "http": 0.25}
HTTP_RAW_TARGET = 0.50
# The floor each arm is measured against: the wallet-payment arm against its own raw
# SQL (a floor has none); every other arm against checkout's `raw`.
FLOORS = {"raw": None, "wallet_raw": None, "wallet": "wallet_raw"}


def floor_of(arm: str) -> str | None:
    return FLOORS.get(arm, "raw")


def _fmt(value, width, digits=1):
    if value is None:
        return "-".rjust(width)
    if isinstance(value, float):
        return f"{value:.{digits}f}".rjust(width)
    return str(value).rjust(width)


def _errors(errors: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(errors.items())) or "0"


def _floors(cells: list[dict]) -> dict:
    return {
        (c["arm"], c["scenario"], c["concurrency"]): c["checkouts_per_s"]
        for c in cells
        if floor_of(c["arm"]) is None and c.get("mode", "closed") == "closed"
    }


def ratios(cells: list[dict]) -> list[dict]:
    """(arm)/(its floor) throughput for every scenario and concurrency that has a floor
    cell (`floor_of`: raw, or wallet_raw for the wallet arm)."""
    floor = _floors(cells)
    out = []
    for c in cells:
        key = (floor_of(c["arm"]), c["scenario"], c["concurrency"])
        if key[0] is None or not floor.get(key):
            continue
        if c.get("mode", "closed") != "closed":
            continue
        ratio = c["checkouts_per_s"] / floor[key]
        target = TARGETS.get(c["arm"]) if c["concurrency"] == 8 else None
        out.append(
            {
                "arm": c["arm"],
                "scenario": c["scenario"],
                "concurrency": c["concurrency"],
                "floor": key[0],
                "ratio_to_raw": round(ratio, 3),
                "target": target,
                "meets_target": None if target is None else ratio >= target,
            }
        )
    http_floor = {
        (c["scenario"], c["concurrency"]): c["checkouts_per_s"]
        for c in cells
        if c["arm"] == "http_raw" and c.get("mode", "closed") == "closed"
    }
    for c in cells:
        key = (c["scenario"], c["concurrency"])
        if c["arm"] != "http" or c.get("mode", "closed") != "closed" or not http_floor.get(key):
            continue
        ratio = c["checkouts_per_s"] / http_floor[key]
        target = HTTP_RAW_TARGET if c["concurrency"] == 8 else None
        out.append(
            {
                "arm": "http",
                "baseline": "http_raw",
                "scenario": c["scenario"],
                "concurrency": c["concurrency"],
                "ratio_to_http_raw": round(ratio, 3),
                "target": target,
                "meets_target": None if target is None else ratio >= target,
            }
        )
    return out


def table(cells: list[dict]) -> str:
    head = (
        f"{'arm':<21}{'scenario':<9}{'c':>3}{'ckout/s':>9}{'p50ms':>8}{'p95ms':>8}{'p99ms':>8}"
        f"{'q/ck':>6}{'lockw':>6}{'lkmax':>6}{'cpu%':>6}{'cli%':>6}{'oth%':>6}"
        f"{'vs raw':>7}{'vs hr':>7}{'srvms':>7}  errors"
    )
    floor = _floors(cells)
    http_floor = {
        (c["scenario"], c["concurrency"]): c["checkouts_per_s"]
        for c in cells
        if c["arm"] == "http_raw" and c.get("mode", "closed") == "closed"
    }
    lines = [head, "-" * len(head)]
    for c in cells:
        base = floor.get((floor_of(c["arm"]), c["scenario"], c["concurrency"]))
        vs = c["checkouts_per_s"] / base if base else None
        hbase = http_floor.get((c["scenario"], c["concurrency"]))
        vs_http = c["checkouts_per_s"] / hbase if hbase and c["arm"] == "http" else None
        client_cpu = c.get("generator_cpu_pct", c.get("client_cpu_pct"))
        arm = c["arm"] if c.get("mode", "closed") == "closed" else f"{c['arm']}/{c['mode']}"
        lines.append(
            f"{arm:<21}{c['scenario']:<9}{c['concurrency']:>3}"
            f"{_fmt(c['checkouts_per_s'], 9)}{_fmt(c['p50_ms'], 8)}{_fmt(c['p95_ms'], 8)}"
            f"{_fmt(c['p99_ms'], 8)}{_fmt(c.get('queries_per_checkout'), 6)}"
            f"{_fmt(c.get('lock_waiters_mean'), 6, 2)}{_fmt(c.get('lock_waiters_max'), 6)}"
            f"{_fmt(c.get('machine_cpu_busy_pct'), 6, 0)}{_fmt(client_cpu, 6, 0)}"
            f"{_fmt(c.get('foreign_cpu_pct'), 6, 0)}"
            f"{_fmt(vs, 7, 2)}{_fmt(vs_http, 7, 2)}{_fmt(c.get('server_cpu_ms_per_checkout'), 7)}"
            f"  {_errors(c['errors'])}"
        )
    return "\n".join(lines)


def summary(result: dict) -> str:
    lines = [table(result["cells"]), ""]
    for r in result["ratios"]:
        if r["target"] is not None:
            verdict = "meets" if r["meets_target"] else "BELOW"
            base = r.get("baseline", "raw")
            ratio = r.get("ratio_to_http_raw", r.get("ratio_to_raw"))
            lines.append(
                f"{r['arm']:<8} {r['scenario']:<7} c=8: {100 * ratio:.0f}% of {base}"
                f" (target {100 * r['target']:.0f}%: {verdict})"
            )
        elif r["concurrency"] == 8 and r.get("floor", "raw") != "raw":
            lines.append(
                f"{r['arm']:<8} {r['scenario']:<7} c=8: {100 * r['ratio_to_raw']:.0f}% of"
                f" {r['floor']} (no target)"
            )
    for s in result.get("soldout", []):
        lines.append(
            f"sold-out ({s['arm']}): {s['clients']} clients, {s['stock']} in stock ->"
            f" {s['orders']} orders, {s['clean_409']} clean 409, {s['5xx']} 5xx:"
            f" {'OK' if s['ok'] else 'FAILED'}"
        )
    fs = result.get("fsync", {})
    if fs.get("available"):
        method = result.get("server", {}).get("wal_sync_method", "fdatasync")
        m = fs["one_8kB_write"].get(method)
        if m:
            lines.append(
                f"pg_test_fsync {method}: {m['usecs_per_op']} us/op "
                f"({m['ops_per_s']:.0f} ops/s, 8 kB)"
            )
    if result.get("failures"):
        lines.append("FAILURES:")
        lines.extend(f"  - {f}" for f in result["failures"])
    return "\n".join(lines)
