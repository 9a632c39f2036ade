"""Prometheus metrics of Stripe webhooks and reconciliation (served by config.metrics)."""

import functools
import time

import structlog
from prometheus_client import Counter, Histogram

from core.logcontext import bind_order_id

log = structlog.get_logger("shop.metrics")

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
RECONCILIATION_FIXES = Counter(
    "shop_payment_reconciliation_fixes",
    "Orders and wallet deposits the payment reconciliation job corrected from Stripe's "
    "state, by action (the order's new status, or deposit_succeeded, deposit_canceled).",
    ["action"],
)
RECONCILIATION_RUNS = Counter(
    "shop_payment_reconciliation_runs",
    "Payment reconciliation runs (task or command) by outcome: ok, error.",
    ["outcome"],
)


def count_reconciliation_run(func):
    """Decorate payments.services.reconcile_payments: count each run by outcome."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            result = func(*args, **kwargs)
        except Exception:
            RECONCILIATION_RUNS.labels(outcome="error").inc()
            raise
        RECONCILIATION_RUNS.labels(outcome="ok").inc()
        return result

    return wrapper


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
