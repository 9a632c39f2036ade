"""Stripe-style API errors.

Stripe answers failures with ``{"error": {"type", "code", "message", "param", ...}}`` and an
HTTP status that the SDK maps to exception classes (400/404 -> InvalidRequestError or
IdempotencyError, 401 -> AuthenticationError, 402 -> CardError, 409 -> APIError).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error response. ``replayable`` tells whether an Idempotency-Key stores it.

    Stripe only saves idempotent results once an endpoint *started executing*: parameter
    validation failures are not saved (retrying them with the same key is allowed), while
    e.g. a card decline is saved and replayed.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # mirrors Stripe's field name
        code: str | None = None,
        param: str | None = None,
        replayable: bool = True,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.replayable = replayable
        self.headers = headers or {}
        self.extra = extra  # additional fields of the error object (decline_code, ...)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, *, code: str | None = None, param: str | None = None) -> ApiError:
    """A 400 parameter-validation error (not stored for idempotent replay)."""
    return ApiError(400, message, code=code, param=param, replayable=False)


def missing_param(param: str) -> ApiError:
    return invalid(f"Missing required param: {param}.", code="parameter_missing", param=param)


def no_such(kind: str, object_id: str, *, param: str = "id", status: int = 404) -> ApiError:
    return ApiError(
        status,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
        replayable=False,
    )


def unexpected_state(message: str, **extra: Any) -> ApiError:
    return ApiError(400, message, code="payment_intent_unexpected_state", **extra)


def auth_error(message: str) -> ApiError:
    return ApiError(401, message, replayable=False)
