"""Prometheus metrics (prometheus-client), served at /metrics by config.views.metrics.

Each app defines and increments its own metrics (`orders.metrics`: checkouts and
transitions; `payments.metrics`: webhooks and reconciliation); this module holds the
HTTP metrics of the web tier and renders every metric for the scrape.

Gunicorn runs several worker processes: with PROMETHEUS_MULTIPROC_DIR set (to an empty
directory, before the workers start) every process writes its samples there and /metrics
adds them up (prometheus_client's multiprocess mode). The gunicorn config must call
`prometheus_client.multiprocess.mark_process_dead(worker.pid)` in `child_exit`.
"""

import os

import structlog
from django.db import DatabaseError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
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


def multiprocess_enabled() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


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
    if multiprocess_enabled():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(EmailOutboxCollector())
    return generate_latest(registry) + generate_latest(database), CONTENT_TYPE_LATEST
