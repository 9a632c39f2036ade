"""Prometheus metrics (prometheus-client), served at /metrics by config.views.metrics and
by the Celery worker's own endpoint (`serve_worker_metrics`).

Each app defines and increments its own metrics (`orders.metrics`: checkouts, transitions,
expiries, emails; `payments.metrics`: webhooks and reconciliation); this module holds the
HTTP metrics of the web tier and the task metrics of the worker, and renders them.

Where the work happens is where it is counted, and each process type exports its own:
- gunicorn (/metrics): requests, checkouts, webhooks, transitions made by requests, and the
  email outbox read from the database at each scrape.
- the Celery worker (WORKER_METRICS_PORT): tasks by outcome and duration, and what its
  tasks did: expiries, reconciliation runs and fixes, emails sent or failed. Not the web's
  PROMETHEUS_MULTIPROC_DIR: web and worker usually run in separate containers or hosts,
  and two servers sharing one directory would each export the other's samples too.
- a management command run by cron counts into the web's directory when it is given the
  same PROMETHEUS_MULTIPROC_DIR on the web's host; otherwise its counts end with it.

Several processes of one server add up through prometheus_client's multiprocess mode: each
writes its samples in PROMETHEUS_MULTIPROC_DIR and the scrape sums them. gunicorn makes
itself a private directory when none is configured (config/gunicorn.py); the worker needs
one of its own in its environment to see its prefork pool. Counters restart from zero when
a whole server restarts, as Prometheus expects of counters (rate() and increase() handle
it); a gunicorn worker recycled after max_requests no longer resets anything.
"""

import ipaddress
import os
import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from django.conf import settings
from django.db import DatabaseError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from orders import selectors as order_selectors

log = structlog.get_logger("shop.metrics")

REQUEST_LATENCY = Histogram(
    "shop_http_request_duration_seconds",
    "Time to answer an HTTP request, by view (URL name) and method.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUESTS = Counter(
    "shop_http_requests",
    "HTTP requests answered, by view, method and status code.",
    ["view", "method", "status"],
)
CACHE_FAIL_OPEN = Counter(
    "shop_cache_fail_open",
    "Cache operations answered as a miss because Redis is down or hung (config.cache).",
    ["operation"],
)


TASKS = Counter(
    "shop_celery_tasks",
    "Celery tasks run, by task and final state: success, failure, retry, rejected, ignored.",
    ["task", "outcome"],
)
TASK_DURATION = Histogram(
    "shop_celery_task_duration_seconds",
    "Time a Celery task ran, by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300),
)
TASK_LAST_SUCCESS = Gauge(
    "shop_celery_task_last_success_timestamp_seconds",
    "When each task last succeeded (Unix time): alert when a periodic job stops succeeding.",
    ["task"],
    multiprocess_mode="max",
)


def observe_task(*, task: str, state: str, seconds: float | None) -> None:
    TASKS.labels(task=task, outcome=state.lower()).inc()
    if seconds is not None:
        TASK_DURATION.labels(task=task).observe(seconds)
    if state == "SUCCESS":
        TASK_LAST_SUCCESS.labels(task=task).set(time.time())


def multiprocess_enabled() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def _process_registry():
    """This server's samples: every process's in multiprocess mode, else this one's."""
    if multiprocess_enabled():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


class EmailOutboxCollector:
    """Gauges of the order email outbox, read from the database at each scrape (they
    describe shared state, not one process, so they bypass the per-process samples)."""

    def collect(self):
        try:
            stats = order_selectors.email_outbox()
        except DatabaseError as exc:  # /metrics still answers with everything else
            log.warning("email_outbox_metrics_unavailable", error=str(exc))
            return
        unsent = GaugeMetricFamily(
            "shop_order_emails_unsent",
            "Order emails not sent yet: pending (no try yet), retrying, gave_up.",
            labels=["state"],
        )
        for state in ("pending", "retrying", "gave_up"):
            unsent.add_metric([state], stats[state])
        yield unsent
        yield GaugeMetricFamily(
            "shop_order_email_oldest_pending_seconds",
            "Age of the oldest order email not tried yet; grows when no dispatcher or worker runs.",
            value=stats["oldest_pending_seconds"],
        )


def render_latest() -> tuple[bytes, str]:
    """The exposition text for every metric (of every worker, in multiprocess mode)."""
    database = CollectorRegistry(auto_describe=False)
    database.register(EmailOutboxCollector())
    return generate_latest(_process_registry()) + generate_latest(database), CONTENT_TYPE_LATEST


def address_allowed(address: str) -> bool:
    """Whether a scraper at `address` (the TCP peer) may read metrics."""
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in settings.METRICS_ALLOWED_NETWORKS:
        try:
            if peer in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


# --- the Celery worker's endpoint ----------------------------------------------------


def worker_metrics_app(environ, start_response):
    """WSGI app of the worker's endpoint: its metrics (no outbox gauges: the web exports
    those, from the same database) to METRICS_ALLOWED_NETWORKS, like /metrics."""
    if not address_allowed(environ.get("REMOTE_ADDR", "")):
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"Forbidden"]
    if environ.get("PATH_INFO") not in ("/", "/metrics"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [generate_latest(_process_registry())]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass  # a scrape every few seconds is not worth a log line


def serve_worker_metrics(*, addr: str, port: int) -> WSGIServer | None:
    """Serve the worker's metrics in a daemon thread; None (and a warning, the worker runs
    on) when the port is taken, e.g. by a second worker on the same host."""
    try:
        server = make_server(
            addr, port, worker_metrics_app, _ThreadingServer, handler_class=_QuietHandler
        )
    except OSError as exc:
        log.warning("worker_metrics_unavailable", addr=addr, port=port, error=str(exc))
        return None
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    log.info(
        "worker_metrics_serving",
        addr=addr,
        port=server.server_address[1],
        multiprocess=multiprocess_enabled(),
    )
    return server
