"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi:application`.

Every value can be overridden from the environment (GUNICORN_WORKERS, GUNICORN_THREADS,
...) or the command line. The sync-style gthread workers sit behind nginx, which
buffers slow clients (deploy/nginx.conf), so a worker thread is never held by a slow
upload or a slow reader.
"""

import multiprocessing
import os
import shutil
import tempfile


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# (2 x cores) + 1 processes; each serves several requests at once with threads.
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# A request that takes longer than this is killed: checkout and pages take milliseconds;
# Stripe calls have their own shorter timeouts.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Keep-alive with the proxy in front (nginx reuses upstream connections).
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then (with jitter so they do not all restart at once).
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Load the app in each worker, not the master: database connections are never shared
# across the fork.
preload_app = False
# Heartbeat files in memory, not on a possibly slow disk (containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Client address (from the proxy), method, status, size, duration in microseconds and
# the request id. No path or referrer: a password reset link carries its token in the
# path. The app's own log line for the request (same request_id) names the URL pattern.
access_log_format = (
    '%({x-forwarded-for}i)s %(h)s %(m)s %(s)s %(B)s %(D)sus "%(a)s" request_id=%({x-request-id}o)s'
)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    # Prometheus multiprocess mode, so /metrics adds up every worker whichever one answers
    # the scrape, and a worker recycled after max_requests takes its counts with it into
    # the sum instead of resetting them. Without a configured directory, a private one for
    # this server (removed on exit). Each worker writes its own files there; files from a
    # previous run would be counted again, so start empty. Set before any worker starts:
    # they inherit the environment and import the app afterwards (preload_app is off).
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not path:
        path = tempfile.mkdtemp(prefix="shop-prometheus-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        _created.append(path)
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for path in _created:
        shutil.rmtree(path, ignore_errors=True)


_created: list[str] = []  # the directory on_starting made, if any
