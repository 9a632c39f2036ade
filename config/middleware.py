"""Per-request observability (latency metric, one log line, log context), hostile query
strings and forms, private caching of signed-in answers, guests kept out of the wallet
and merchant sections, and the CSP header."""

import base64
import hashlib
import re
import time
import uuid
from urllib.parse import urlsplit

import structlog
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib import messages
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from config import errors, metrics
from core.parsers import CONTROL_CHARACTERS_CODE, CONTROL_CHARACTERS_DETAIL
from core.untrusted import has_forbidden_characters

log = structlog.get_logger("shop.request")

# Probes and scrapes: measured, but not logged (they come every few seconds).
_QUIET_VIEWS = {"healthz", "readyz", "metrics"}
UNMATCHED = "<unmatched>"


def _order_id_from(view_name: str, view_kwargs: dict) -> str | None:
    if "order" not in view_name:
        return None
    value = view_kwargs.get("pk") or view_kwargs.get("order_id")
    if isinstance(value, uuid.UUID):
        return str(value)
    return None


def _user_id(request):
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk
    return None


class RequestObservabilityMiddleware:
    """Times each request into the latency histogram (by URL name), logs one line for it,
    and binds the user id, view and order id (when the URL names one) to the log context.

    Sits right after audit.middleware.RequestIdMiddleware, which binds the request id.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            elapsed = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            view = (match.view_name if match else None) or UNMATCHED
            metrics.REQUEST_LATENCY.labels(view=view, method=request.method).observe(elapsed)
            metrics.REQUESTS.labels(view=view, method=request.method, status=str(status)).inc()
            if view not in _QUIET_VIEWS:
                # The URL pattern, not the path: paths can carry secrets (the password
                # reset link's token) and query strings too. Order ids are bound above.
                log.info(
                    "request",
                    method=request.method,
                    path=match.route if match else request.path,
                    status=status,
                    view=view,
                    duration_ms=round(elapsed * 1000, 1),
                    user_id=_user_id(request),
                )

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        view = (match.view_name if match else "") or ""
        context = {"view": view or UNMATCHED}
        user_id = _user_id(request)
        if user_id is not None:
            context["user_id"] = user_id
        order_id = _order_id_from(view, view_kwargs)
        if order_id is not None:
            context["order_id"] = order_id
        structlog.contextvars.bind_contextvars(**context)
        return None


class RejectControlCharactersMiddleware:
    """400 for a query string or a form with control characters in a name or value.

    One place for every page, the admin and the API (JSON bodies are checked by
    core.parsers.JSONParser): `?search=%00` would otherwise reach PostgreSQL, which cannot
    store NUL in text and fails the request with a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = [request.GET]
        if request.method == "POST" and not errors.is_api(request):
            # Page forms: urlencoded or multipart, parsed here as CsrfViewMiddleware would;
            # a JSON body (the webhook) stays unread. The API takes JSON only.
            try:
                fields.append(request.POST)
            except MultiPartParserError:
                return errors.bad_request(request)
        for query in fields:
            for name, values in query.lists():
                if any(has_forbidden_characters(text) for text in (name, *values)):
                    return errors.bad_request(
                        request, detail=CONTROL_CHARACTERS_DETAIL, code=CONTROL_CHARACTERS_CODE
                    )
        return self.get_response(request)


class PrivateCacheMiddleware:
    """Answers to a signed-in user (session or, through DRF, a bearer token) are never
    stored by a browser or a shared cache: `Cache-Control: private, no-store` (with
    Django's other never-cache directives). Anonymous answers keep their own headers.

    Sits after AuthenticationMiddleware; DRF sets the token's user on the request too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class GuestSectionsMiddleware:
    """A guest account (guest checkout, orders.guest) has its orders only: the wallet and
    merchant sections send it to its orders, where it can create a full account."""

    SECTIONS = {"wallet", "merchant"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(request.user, "is_guest", False):
            return None
        if request.resolver_match.namespace not in self.SECTIONS:
            return None
        messages.info(request, _("Create an account from your order page first."))
        return redirect("orders:list")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, plus the Stripe simulator's origin in connect-src when
    STRIPE_API_BASE points at it (the offline payment form posts the card to it from the
    browser). Read per response, so tests that start a simulator on a free port work."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if report_only:
            return parts
        update = dict(parts.update or {})
        origin = stripe_api_origin()
        if origin:
            update["connect-src"] = [*update.get("connect-src", []), origin]
        if request.path_info.startswith(INLINE_HASHED_PATHS):
            for directive, sources in inline_hashes(response).items():
                update[directive] = [*update.get(directive, []), *sources]
        if update:
            parts.update = update
        return parts


# Third-party pages we render but do not write, whose templates inline a script and a
# style (drf-spectacular's Swagger UI): those exact blocks are allowed by their hashes,
# on these paths only. Our own templates never inline anything.
INLINE_HASHED_PATHS = ("/api/docs/",)
_INLINE_BLOCK = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL | re.IGNORECASE)


def inline_hashes(response) -> dict[str, list[str]]:
    if "html" not in response.get("Content-Type", "") or getattr(response, "streaming", False):
        return {}
    hashes: dict[str, list[str]] = {}
    for tag, body in _INLINE_BLOCK.findall(response.content.decode(errors="replace")):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        directive = "script-src" if tag.lower() == "script" else "style-src"
        hashes.setdefault(directive, []).append(f"'sha256-{digest}'")
    return hashes


def stripe_api_origin() -> str | None:
    base = getattr(settings, "STRIPE_API_BASE", "")
    if not base:
        return None
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"
