"""Context bound to the log lines of the request being served (structlog)."""

import structlog


def bind_order_id(order_id) -> None:
    """Name the order on the rest of the request's log lines. Only inside a request:
    audit.middleware clears the context when the request ends; outside one (a task, a
    command) nothing would, and later lines would name the wrong order."""
    if structlog.contextvars.get_contextvars().get("request_id"):
        structlog.contextvars.bind_contextvars(order_id=str(order_id))
