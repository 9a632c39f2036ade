"""Prometheus metrics of checkout, the order state machine and order emails (served by
config.metrics: by the web's /metrics, and by the Celery worker's endpoint for what its
tasks do, such as expiries and emails)."""

import contextvars
import functools

from django.db import transaction
from prometheus_client import Counter

from core.logcontext import bind_order_id
from orders.exceptions import IdempotencyConflict
from orders.models import Order
from shop.exceptions import InsufficientStock, InvalidCart

CHECKOUTS = Counter(
    "shop_checkouts",
    "Checkouts by outcome: placed, insufficient_stock, idempotent_replay, invalid_cart, error.",
    ["outcome"],
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
ORDER_EMAILS = Counter(
    "shop_order_emails",
    "Order email sends by kind and outcome: sent; failed (retried later, or given up after "
    "the last attempt); skipped (sent already, or another worker is sending it).",
    ["kind", "outcome"],
)

# --- order transitions (django-fsm's post_transition signal, connected in orders.apps) --


def on_order_transition(sender, instance, name, source, target, **kwargs):
    """Count a transition once its transaction commits (a rolled back one never happened)."""
    if kwargs.get("exception") is not None:
        return

    def count():
        ORDER_TRANSITIONS.labels(transition=name, source=source, target=target).inc()
        if target == Order.Status.EXPIRED:
            RESERVATIONS_EXPIRED.inc()

    transaction.on_commit(count)


# --- checkouts ------------------------------------------------------------------------

_in_checkout: contextvars.ContextVar[bool] = contextvars.ContextVar("in_checkout", default=False)


def checkout_outcome(*, order=None, error: BaseException | None = None) -> str:
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


# --- order emails ------------------------------------------------------------------------


def count_email_send(func):
    """Decorate orders.emails.send_order_email: count each call by kind and outcome."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        kind = str(kwargs.get("kind", ""))
        try:
            sent = func(*args, **kwargs)
        except Exception:
            ORDER_EMAILS.labels(kind=kind, outcome="failed").inc()
            raise
        ORDER_EMAILS.labels(kind=kind, outcome="sent" if sent else "skipped").inc()
        return sent

    return wrapper
