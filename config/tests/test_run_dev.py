"""`make run` (scripts/run-dev.sh) stops at once, saying why, when a port it needs is taken:
serving on with the simulator's port busy left checkouts `created` with no payment."""

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from config.tests.stack import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def run_dev(**env) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": str(ROOT), "ENV_FILE": ""}
    proc = subprocess.Popen(  # noqa: S603 - our script
        [ROOT / "scripts" / "run-dev.sh"],
        cwd=ROOT,
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a shop it starts anyway can be stopped with it
    )
    try:
        stdout, stderr = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        stdout, stderr = proc.communicate()
        pytest.fail(f"make run kept running with a busy port:\n{stdout}\n{stderr}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_a_busy_simulator_port_stops_make_run_with_a_clear_message(busy_port):
    result = run_dev(PORT=str(free_port()), SIMULATOR_PORT=str(busy_port))

    assert result.returncode == 1
    assert f"port {busy_port} (the Stripe simulator) is already in use" in result.stderr
    assert "SIMULATOR_PORT=<port> make run" in result.stderr
    assert "Apply" not in result.stdout  # stopped before migrating


def test_a_busy_shop_port_stops_make_run_with_a_clear_message(busy_port):
    result = run_dev(PORT=str(busy_port), SIMULATOR_PORT=str(free_port()))

    assert result.returncode == 1
    assert f"port {busy_port} (the shop) is already in use" in result.stderr
    assert "PORT=<port> make run" in result.stderr
