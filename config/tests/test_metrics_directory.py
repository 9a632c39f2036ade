"""PROMETHEUS_MULTIPROC_DIR: a directory that does not exist yet (or cannot) never breaks a
command, and gunicorn always adds up its workers (issue 14, item 8)."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = ROOT / "config" / "gunicorn.py"


def manage(*args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ.update(env)
    return subprocess.run(  # noqa: S603 - our interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_command_creates_the_directory_gunicorn_has_not_created_yet(tmp_path):
    path = tmp_path / "not" / "yet"

    result = manage("check", PROMETHEUS_MULTIPROC_DIR=str(path))

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert path.is_dir()
    # The command's metrics live there, as in the web's directory.
    assert any(name.startswith("counter_") for name in os.listdir(path))


def test_a_command_runs_with_metrics_per_process_when_the_directory_cannot_exist(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    result = manage("check", PROMETHEUS_MULTIPROC_DIR=str(blocker / "sub"))

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert f"PROMETHEUS_MULTIPROC_DIR={blocker / 'sub'} is unusable" in result.stderr


def gunicorn_hooks(monkeypatch, **env):
    for name, value in env.items():
        # Set first, even to unset it: the hooks write os.environ themselves, and
        # monkeypatch then restores the variable as it was before the test.
        monkeypatch.setenv(name, value or "")
        if value is None:
            monkeypatch.delenv(name)
    return runpy.run_path(str(GUNICORN_CONFIG))


def test_gunicorn_gives_its_workers_a_private_directory_when_none_is_set(monkeypatch):
    hooks = gunicorn_hooks(monkeypatch, PROMETHEUS_MULTIPROC_DIR=None)

    hooks["on_starting"](server=None)

    path = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])  # what the workers inherit
    assert path.is_dir()
    assert list(path.iterdir()) == []
    hooks["on_exit"](server=None)
    assert not path.exists()


def test_gunicorn_empties_a_configured_directory_of_samples_only(monkeypatch, tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "histogram_123.db").write_bytes(b"old")
    (tmp_path / "worker").mkdir()  # e.g. another server's directory inside: left alone
    hooks = gunicorn_hooks(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))

    hooks["on_starting"](server=None)
    hooks["on_exit"](server=None)

    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["worker"]
