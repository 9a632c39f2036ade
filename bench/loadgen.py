"""The HTTP load generator: a separate process, asyncio + httpx, one JWT per client.

    python -m bench.loadgen SPEC.json OUT.json

SPEC: {"url", "tokens": [...], "scenario": {...}, "concurrency", "duration", "warmup",
"mode": "closed" | "open" | "once", "rate", "seed", "get_paths"}. With `get_paths` (one
list of paths per token), the clients GET those paths in turn instead of checking out
(bench.growth's order list and detail).

- closed: `concurrency` clients, each sending its next checkout as soon as the last one
  answered (the same model as the raw and service arms, so the arms compare).
- open: arrivals at `rate` per second (Poisson), at most `concurrency` in flight; the
  latency runs from the arrival's scheduled time, so queueing in the generator counts
  (no coordinated omission).
- once: every client sends exactly one checkout, all released together (sold-out).

Writes the statistics plus its own CPU use (getrusage), so a saturated generator is
not mistaken for a slow server.
"""

import asyncio
import json
import random
import sys
import time

import httpx

from bench.common import Recorder, Scenario, merge, now, process_cpu_seconds

CHECKOUT = "/api/v1/orders/checkout"


def _outcome(response: httpx.Response) -> str:
    if response.status_code in (200, 201):
        return "ok"
    kind = f"http_{response.status_code}"
    try:
        code = response.json().get("code")
    except ValueError:
        code = None
    return f"{kind}:{code}" if code else kind


async def _one(
    client, token, lines, rec: Recorder, scheduled: float | None = None, path: str | None = None
) -> str:
    started = now() if scheduled is None else scheduled
    headers = {"Authorization": f"Bearer {token}"}
    try:
        if path is not None:
            response = await client.get(path, headers=headers)
        else:
            body = {"items": [{"product_id": pid, "quantity": q} for pid, q in lines]}
            response = await client.post(CHECKOUT, json=body, headers=headers)
        outcome = _outcome(response)
    except httpx.HTTPError as exc:
        outcome = f"transport:{type(exc).__name__}"
    rec.add(started, now() - started, outcome)
    return outcome


async def _main(spec: dict) -> dict:
    scenario = Scenario.from_json(spec["scenario"])
    tokens, n = spec["tokens"], spec["concurrency"]
    warmup = spec.get("warmup", 0.0)
    duration = spec["duration"]
    mode = spec.get("mode", "closed")
    get = bool(spec.get("get_paths"))
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    timeout = httpx.Timeout(60.0)
    recorders: list[Recorder] = []
    async with httpx.AsyncClient(base_url=spec["url"], limits=limits, timeout=timeout) as client:
        # Open the connections first, so connecting is not measured.
        await asyncio.gather(*(client.get("/healthz") for _ in range(min(n, 64))))
        cpu0, start = process_cpu_seconds(), now()
        window_start, window_end = start + warmup, start + warmup + duration
        if mode == "once":
            rec = Recorder(start - 1, float("inf"))
            recorders.append(rec)
            rng = random.Random(spec.get("seed", 0))  # noqa: S311
            await asyncio.gather(
                *(_one(client, tokens[i % len(tokens)], scenario.cart(rng), rec) for i in range(n))
            )
            duration = now() - start
        elif mode == "closed":

            async def client_loop(index: int) -> None:
                rng = random.Random(spec.get("seed", 0) * 1000 + index)  # noqa: S311
                rec = Recorder(window_start, window_end)
                recorders.append(rec)
                paths = (spec.get("get_paths") or [None])[index % len(tokens)] if get else None
                sent = 0
                while now() < window_end:
                    path = paths[sent % len(paths)] if paths else None
                    lines = None if path else scenario.cart(rng)
                    await _one(client, tokens[index % len(tokens)], lines, rec, path=path)
                    sent += 1

            await asyncio.gather(*(client_loop(i) for i in range(n)))
        else:  # open
            rec = Recorder(window_start, window_end)
            recorders.append(rec)
            rng = random.Random(spec.get("seed", 0))  # noqa: S311
            gate = asyncio.Semaphore(n)
            tasks = set()

            async def arrival(index: int, scheduled: float) -> None:
                async with gate:
                    await _one(
                        client, tokens[index % len(tokens)], scenario.cart(rng), rec, scheduled
                    )

            t, i = start, 0
            while t < window_end:
                t += rng.expovariate(spec["rate"])
                delay = t - now()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(arrival(i, t))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                i += 1
            if tasks:
                await asyncio.gather(*tasks)
        elapsed = now() - start
        cpu = process_cpu_seconds() - cpu0
    result = merge(recorders, duration)
    result["placed_total"] = sum(r.all_ok for r in recorders)
    result["generator_cpu_pct"] = round(100 * cpu / elapsed, 1)
    result["generator_elapsed_s"] = round(elapsed, 2)
    result["mode"] = mode
    if mode == "open":
        result["offered_rate_per_s"] = spec["rate"]
    return result


def main(argv: list[str]) -> int:
    spec_path, out_path = argv
    with open(spec_path) as f:
        spec = json.load(f)
    t0 = time.time()
    result = asyncio.run(_main(spec))
    result["wall_s"] = round(time.time() - t0, 2)
    with open(out_path, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
