"""`python -m bench.profile` runs end to end (a tiny N) and accounts for the whole request."""

import json
import os
import subprocess
import sys

from bench.http_arm import ROOT


def test_profile_prints_the_component_table(tmp_path):
    out = tmp_path / "profile.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.profile", "-n", "5", "--warmup", "2", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["statuses"] == {"201 Created": 7}
    components = {c["component"] for c in result["components"]}
    assert {
        "JWT authentication (+ user query)",
        "throttling",
        "place_order() transaction",
        "Stripe call, our side (SDK + HTTP client)",
        "start_payment transaction",
        "response serializer",
        "Django + DRF + middleware (rest)",
    } <= components
    assert all(c["ms"] >= 0 for c in result["components"])
    # the HTTP checkout's statements, as bench/tests/test_smoke.py's HTTP arm counts them
    assert result["queries_per_checkout"] == 11
    assert result["redis_round_trips_per_checkout"] == 1  # the throttle
    assert "request (median of totals)" in done.stdout
