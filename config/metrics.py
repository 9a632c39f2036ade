"""Prometheus metrics (prometheus-client), served at /metrics by config.views.metrics.

Gunicorn runs several worker processes: with PROMETHEUS_MULTIPROC_DIR set (to an empty
directory, before the workers start) every process writes its samples there and /metrics
adds them up (prometheus_client's multiprocess mode). The gunicorn config must call
`prometheus_client.multiprocess.mark_process_dead(worker.pid)` in `child_exit`.

Other modules increment these directly, e.g. the reconciliation job:
    from config.metrics import RECONCILIATION_FIXES
    RECONCILIATION_FIXES.labels(action="marked_paid").inc()
"""

import contextvars
import functools
import os
import time

import structlog
from django.db import DatabaseError, transaction
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
CHECKOUTS = Counter(
    "shop_checkouts",
    "Checkouts by outcome: placed, insufficient_stock, idempotent_replay, invalid_cart, error.",
    ["outcome"],
)
WEBHOOK_EVENTS = Counter(
    "shop_webhook_events",
    "Stripe webhook events handled, by event type and outcome: processed, failed, duplicate.",
    ["type", "outcome"],
)
WEBHOOK_LAG = Histogram(
    "shop_webhook_event_lag_seconds",
    "Seconds from Stripe creating an event to the shop processing it.",
    ["type"],
    buckets=(0.5, 1, 2, 5, 15, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 3 * 24 * 3600),
)
ORDER_TRANSITIONS = Counter(
    "shop_order_transitions",
    "Committed order status transitions, by transition name, source and target status.",
    ["transition", "source", "target"],
)
RESERVATIONS_EXPIRED = Counter(
    "shop_reservations_expired",
    "Orders whose stock reservation ran out (the expire transition), committed.",
)
RECONCILIATION_FIXES = Counter(
    "shop_payment_reconciliation_fixes",
    "Orders the payment reconciliation job corrected from Stripe's state, by action.",
    ["action"],
)


def multiprocess_enabled() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class EmailOutboxCollector:
    """Gauges of the order email outbox, read from the database at each scrape (they
    describe shared state, not one process, so they bypass the per-process samples)."""

    def collect(self):
        from orders.selectors import email_outbox

        try:
            stats = email_outbox()
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


def bind_order_id(order_id) -> None:
    """Name the order on the rest of the request's log lines. Only inside a request:
    audit.middleware clears the context when the request ends; outside one (a task, a
    command) nothing would, and later lines would name the wrong order."""
    if structlog.contextvars.get_contextvars().get("request_id"):
        structlog.contextvars.bind_contextvars(order_id=str(order_id))


# --- order transitions (django-fsm's post_transition signal) -----------------------


def on_order_transition(sender, instance, name, source, target, **kwargs):
    """Count a transition once its transaction commits (a rolled back one never happened)."""
    if kwargs.get("exception") is not None:
        return

    def count():
        ORDER_TRANSITIONS.labels(transition=name, source=source, target=target).inc()
        if name == "expire":
            RESERVATIONS_EXPIRED.inc()

    transaction.on_commit(count)


# --- checkouts ------------------------------------------------------------------------

_in_checkout: contextvars.ContextVar[bool] = contextvars.ContextVar("in_checkout", default=False)


def checkout_outcome(*, order=None, error: BaseException | None = None) -> str:
    from shop.exceptions import IdempotencyConflict, InsufficientStock, InvalidCart

    if error is None:
        return "idempotent_replay" if getattr(order, "replayed", False) else "placed"
    if isinstance(error, InsufficientStock):
        return "insufficient_stock"
    if isinstance(error, InvalidCart | IdempotencyConflict):
        return "invalid_cart"
    return "error"


def count_checkout(func):
    """Decorate a checkout service: count each call once by outcome (nested calls once)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _in_checkout.get():
            return func(*args, **kwargs)
        token = _in_checkout.set(True)
        try:
            order = func(*args, **kwargs)
        except Exception as exc:
            CHECKOUTS.labels(outcome=checkout_outcome(error=exc)).inc()
            raise
        finally:
            _in_checkout.reset(token)
        CHECKOUTS.labels(outcome=checkout_outcome(order=order)).inc()
        if getattr(order, "pk", None) is not None:
            bind_order_id(order.pk)
        return order

    return wrapper


# --- webhooks -------------------------------------------------------------------------


def observe_webhook(*, event, outcome: str) -> None:
    """Count a handled webhook event and log it; for processed and failed ones, also how
    late it came (now - the event's `created`)."""
    WEBHOOK_EVENTS.labels(type=event.type, outcome=outcome).inc()
    payload = event.payload if isinstance(event.payload, dict) else {}
    obj = (payload.get("data") or {}).get("object") or {}
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    order_id = metadata.get("order_id") if isinstance(metadata, dict) else None
    if order_id:
        bind_order_id(order_id)
    lag = None
    created = payload.get("created")
    if outcome != "duplicate" and isinstance(created, int | float) and created > 0:
        lag = max(0.0, time.time() - created)
        WEBHOOK_LAG.labels(type=event.type).observe(lag)
    log.info(
        "webhook_event",
        stripe_event_id=event.stripe_event_id,
        type=event.type,
        outcome=outcome,
        attempts=event.attempts,
        lag_seconds=None if lag is None else round(lag, 3),
    )
