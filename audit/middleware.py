import re
import uuid

import structlog

from audit import context

# Accept a caller's id only if it is short and plain, so it is safe to log and store.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    """Take X-Request-ID from the caller (or make one), expose it to audit events and to
    every log line of the request (structlog's context), echo it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = context.request_id.set(request.id)
        # A fresh log context per request: nothing leaks from the previous one on this thread.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request.id)
        try:
            response = self.get_response(request)
        finally:
            context.request_id.reset(token)
            structlog.contextvars.clear_contextvars()
        response["X-Request-ID"] = request.id
        return response
