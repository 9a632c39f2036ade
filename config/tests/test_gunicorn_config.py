"""config/gunicorn.py: gunicorn accepts every value, and the environment overrides them."""

import multiprocessing
import runpy
from pathlib import Path

from gunicorn.config import Config

CONFIG = Path(__file__).resolve().parents[1] / "gunicorn.py"


def load(monkeypatch, **env) -> Config:
    """Read the file as gunicorn does (a Python module) and validate each setting."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace = runpy.run_path(str(CONFIG))
    cfg = Config()
    for name, value in namespace.items():
        if name in cfg.settings:
            cfg.set(name, value)  # gunicorn's own validators: a bad value raises
    return cfg


def test_defaults_scale_with_the_cpu_count(monkeypatch):
    for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    cfg = load(monkeypatch)
    assert cfg.workers == multiprocessing.cpu_count() * 2 + 1
    assert cfg.worker_class_str == "gthread"
    assert cfg.threads == 4
    assert (cfg.timeout, cfg.graceful_timeout, cfg.keepalive) == (30, 30, 5)
    assert cfg.address == [("0.0.0.0", 8000)]  # noqa: S104 - inside the container
    assert cfg.accesslog == "-"
    assert cfg.preload_app is False
    assert "request_id=%({x-request-id}o)s" in cfg.access_log_format
    assert "%(D)sus" in cfg.access_log_format


def test_the_environment_overrides_workers_threads_and_timeout(monkeypatch):
    cfg = load(
        monkeypatch,
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="8",
        GUNICORN_TIMEOUT="60",
        GUNICORN_BIND="127.0.0.1:9000",
    )
    assert (cfg.workers, cfg.threads, cfg.timeout) == (2, 8, 60)
    assert cfg.address == [("127.0.0.1", 9000)]
