"""The README's Operations commands run as written, given the environment the README says
they need, and fail without it the way the README says."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from config.tests.stack import database_url, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)  # the commands see committed data


def operations_section() -> tuple[list[list[str]], str]:
    readme = (ROOT / "README.md").read_text()
    block, after = readme.split("Operations:\n\n```sh\n", 1)[1].split("```\n", 1)
    commands = []
    for line in block.replace("\\\n", " ").splitlines():  # join continued lines
        words = line.split("#", 1)[0].split()
        commands.append([w for w in words if not w.startswith("[")])  # [--fix] is optional
    return commands, after.strip().split("\n\n", 1)[0]


def run(command: list[str], env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    assert command[:2] == ["python", "manage.py"], command
    return subprocess.run(  # noqa: S603 - our interpreter, the README's command
        [sys.executable, *command[1:]],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "ENV_FILE": "", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_each_command_runs_with_the_variables_the_readme_names(stripe_sim, tmp_path):
    commands, needs = operations_section()
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", needs))
    assert {"SECRET_KEY", "JWT_SIGNING_KEY", "DATABASE_URL", "STRIPE_SECRET_KEY"} <= named
    env = {
        "SECRET_KEY": "operations-test-secret-key",
        "JWT_SIGNING_KEY": "operations-test-jwt-key",
        "DATABASE_URL": database_url(connection.settings_dict),
        "STRIPE_SECRET_KEY": "sk_test_shop",
        "STRIPE_API_BASE": stripe_sim.url,
        "STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
        "EMAIL_URL": "dummymail://",
    }
    assert set(env) - {"STRIPE_WEBHOOK_SECRET", "EMAIL_URL"} <= named

    for command in commands:
        if command[2] == "stripe_simulator":  # a server: it must come up, then stop
            port = free_port()
            # Its own port and state file, not the README's.
            values = {"--port": str(port), "--state": str(tmp_path / "simulator.json")}
            command = [
                values.get(command[i - 1], word) if i else word for i, word in enumerate(command)
            ]
            proc = subprocess.Popen(  # noqa: S603 - our interpreter
                [sys.executable, *command[1:]],
                cwd=ROOT,
                env={"PATH": os.environ["PATH"], "ENV_FILE": "", **env},
            )
            try:
                wait_for_port(port, proc, "the simulator")
            finally:
                proc.terminate()
                proc.wait(10)
            continue
        result = run(command, env)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"


def test_without_the_keys_they_refuse_as_the_readme_says():
    commands, needs = operations_section()
    assert "`DEBUG` off" in needs

    result = run(commands[0], {"DATABASE_URL": database_url(connection.settings_dict)})

    assert result.returncode == 1
    assert "SECRET_KEY must be set" in result.stderr
