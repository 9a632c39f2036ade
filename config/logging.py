"""Structured logs: one JSON object per line on stdout, from structlog and the stdlib alike.

Every line carries the request id (audit.middleware binds it), and the user id, view
and order id once they are known (config.middleware binds those). A redaction step
runs last before rendering: keys that name secrets are masked and values that look
like card numbers, Stripe secrets or bearer tokens are replaced, so a careless
`log.info("...", payload=...)` cannot leak them.
"""

import logging
import re

import structlog

REDACTED = "[redacted]"

# Keys whose values never reach a log, wherever they appear (nested dicts too).
_SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authori[sz]ation|cookie|session|csrf|api[_-]?key|"
    r"signature|card|cvc|cvv|number|client_secret|credentials",
    re.IGNORECASE,
)
# Values that look like secrets, inside any string.
_SECRET_VALUES = [
    # A card number: 12 to 19 digits, optionally grouped by spaces or dashes.
    re.compile(r"\b(?:\d[ -]?){11,18}\d\b"),
    # Stripe keys and client secrets, webhook secrets.
    re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]+"),
    re.compile(r"\bwhsec_[A-Za-z0-9]+"),
    re.compile(r"\b(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"),
    # Bearer tokens and JWTs.
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),
]
# Keys the log machinery itself sets: never treated as secrets.
_SAFE_KEYS = {"event", "logger", "level", "timestamp", "request_id", "user_id", "order_id"}


def _scrub_value(value):
    if isinstance(value, str):
        for pattern in _SECRET_VALUES:
            value = pattern.sub(REDACTED, value)
        return value
    if isinstance(value, dict):
        return {k: _scrub_item(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v) for v in value]
    return value


def _scrub_item(key, value):
    if isinstance(key, str) and key not in _SAFE_KEYS and _SECRET_KEY.search(key):
        return REDACTED
    return _scrub_value(value)


def redact_secrets(logger, method_name, event_dict):
    """structlog processor: mask secret-looking keys and values (see module docstring)."""
    return {key: _scrub_item(key, value) for key, value in event_dict.items()}


def _shared_processors():
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def build_logging(*, level: str = "INFO", fmt: str = "json") -> dict:
    """Configure structlog and return Django's LOGGING dict (both render the same way)."""
    # Python warnings (a deprecation, Celery's warning about running as root) become log
    # records too, so they reach stdout as JSON lines rather than as plain stderr text.
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _shared_processors(),
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    redact_secrets,
                    renderer,
                ],
            },
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "structured"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # One line per request comes from config.middleware; Django's own 4xx/5xx
            # lines would repeat it (5xx tracebacks still come from django.request).
            "django.server": {"level": "WARNING"},
            # django-axes logs each step of every login at INFO; keep its warnings.
            "axes": {"level": "WARNING"},
            # The Stripe SDK logs every request and response at INFO: two lines per
            # payment call that metrics and the request line already tell.
            "stripe": {"level": "WARNING"},
        },
    }


def get_logger(name: str | None = None):
    return structlog.get_logger(name)


__all__ = ["REDACTED", "build_logging", "get_logger", "redact_secrets"]
