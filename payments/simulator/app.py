"""Request dispatch for the simulator, independent of sockets.

``SimulatorApp.handle()`` turns (method, path, query, headers, body) into a ``Response``:
authentication, routing, Idempotency-Key handling, ``expand``/``client_secret`` handling and
Stripe-style error bodies. It also exposes the test controls as Python methods. The HTTP
plumbing lives in ``server.py``.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import secrets
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, auth_error, invalid, missing_param
from .forms import FormError, parse_body, parse_form
from .idempotency import IdempotencyStore, StoredResponse
from .persistence import StateFile
from .state import RequestContext, SimulatorState, new_id
from .webhooks import WebhookDispatcher

try:  # Stamp events with the installed SDK's API version, like a real account would.
    import stripe

    DEFAULT_API_VERSION: str = stripe.api_version
except ImportError:  # pragma: no cover - the simulator also runs without the SDK
    DEFAULT_API_VERSION = "2026-10-28.endive"

SECRET = "secret"  # noqa: S105 - a role name: the route needs a secret key
PUBLISHABLE = "publishable"  # route also accepts a publishable key + client_secret
NO_AUTH = "none"  # /_simulator/ controls

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, Idempotency-Key, Stripe-Version, Stripe-Account"
    ),
    "Access-Control-Expose-Headers": "Request-Id, Idempotent-Replayed, Original-Request",
    "Access-Control-Max-Age": "600",
}


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serializable; None means no body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Call:
    """One API call being handled."""

    method: str
    path: str
    params: dict[str, Any]
    headers: Mapping[str, str]
    ctx: RequestContext
    role: str = SECRET
    match: dict[str, str] = field(default_factory=dict)


Handler = Callable[["SimulatorApp", _Call], Any]
_ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = []


def route(method: str, pattern: str, auth: str = SECRET) -> Callable[[Handler], Handler]:
    """Register a handler; ``{id}`` in ``pattern`` matches one path segment."""
    regex = re.compile("^" + pattern.replace("{id}", "(?P<id>[^/]+)") + "$")

    def decorator(func: Handler) -> Handler:
        _ROUTES.append((method, regex, auth, func))
        return func

    return decorator


class SimulatorApp:
    """The simulated Stripe account: objects, events, webhooks and HTTP request handling."""

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_simulator",  # noqa: S107 - test-mode default
        api_key: str | None = None,
        publishable_key: str | None = None,
        retry_delays: Sequence[float] = (1, 2, 4, 8, 16),
        webhook_timeout: float = 10.0,
        webhook_workers: int = 8,
        api_version: str = DEFAULT_API_VERSION,
        log: Callable[[str], None] | None = None,
        state_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.publishable_key = publishable_key
        self.api_version = api_version
        self._log_lock = threading.Lock()
        self._log_sink = log
        self.state_file = StateFile(state_file, self) if state_file else None
        self.dispatcher = WebhookDispatcher(
            secret=webhook_secret,
            url=webhook_url,
            retry_delays=retry_delays,
            timeout=webhook_timeout,
            workers=webhook_workers,
            log=self.log,
            on_change=self._changed,
        )
        self.state = SimulatorState(self._on_event, api_version)
        self.idempotency = IdempotencyStore()
        # Restored before any thread runs: pending deliveries are queued again.
        self.restored = self.state_file.load() if self.state_file else False

    # --------------------------------------------------------- python controls

    @property
    def webhook_url(self) -> str | None:
        return self.dispatcher.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self.dispatcher.url = url

    @property
    def webhook_secret(self) -> str:
        return self.dispatcher.secret

    @property
    def events(self) -> list[dict[str, Any]]:
        """Snapshot of all events in creation order."""
        return self.state.events()

    def event_log(self) -> list[dict[str, Any]]:
        """Events in creation order, each with ``delivery: {status, attempts}`` added."""
        log = []
        for event in self.state.events():
            event["delivery"] = self.dispatcher.record(event["id"])
            log.append(event)
        return log

    def set_webhooks_enabled(self, enabled: bool) -> None:
        """Disabled: new events are recorded but never sent (lost webhooks)."""
        self.dispatcher.enabled = enabled

    def redeliver(self, event_id: str) -> None:
        """Send an event again (same id and payload, fresh signature). KeyError if unknown."""
        self.dispatcher.redeliver(event_id)

    def hold_events(self) -> None:
        """Park new events until ``release_events()``, to test out-of-order delivery."""
        self.dispatcher.hold()

    def release_events(self, order: str | Sequence[str] | None = None) -> list[str]:
        """Deliver parked events: ``order`` is None, "reverse" or ids/types to send first."""
        return self.dispatcher.release(order)

    def settle_processing(self, pi_id: str, outcome: str = "succeeded") -> dict[str, Any]:
        """Finish a PaymentIntent left `processing` by ``pm_card_processing``."""
        return self.state.settle_processing(pi_id, {"outcome": outcome}, RequestContext())

    def dispute(self, pi_id: str, reason: str = "fraudulent") -> dict[str, Any]:
        """Dispute a succeeded PaymentIntent's charge; emits ``charge.dispute.created``."""
        return self.state.create_dispute(pi_id, {"reason": reason}, RequestContext())

    def wait_for_deliveries(self, timeout: float = 10) -> bool:
        """Block until every queued delivery is done or given up; False on timeout."""
        return self.dispatcher.wait(timeout)

    def reset(self) -> None:
        """Forget all objects, events, idempotency keys and pending deliveries."""
        with self.state.lock:
            self.state.reset()
            self.dispatcher.reset()
            self.idempotency.reset()

    def log(self, message: str) -> None:
        if self._log_sink is not None:
            with self._log_lock:  # keep lines from concurrent threads whole
                self._log_sink(message)

    @staticmethod
    def event_payload(event: dict[str, Any]) -> str:
        """The exact body POSTed for an event (rebuilt from the event after a restart)."""
        return json.dumps(event, indent=2)

    def _on_event(self, event: dict[str, Any]) -> None:
        # Called under the state lock, in creation order; submit() only enqueues.
        self.dispatcher.submit(event, self.event_payload(event))

    def _changed(self) -> None:
        if self.state_file is not None:
            self.state_file.mark_dirty()

    # ----------------------------------------------------------- HTTP handling

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        request_id = new_id("req", 14)
        try:
            response = self._handle(method, path, query, headers, body, request_id)
        except Exception as exc:  # a simulator bug: answer like Stripe's api_error, keep serving
            self.log(traceback.format_exc())
            response = Response(
                500, {"error": {"type": "api_error", "message": f"Simulator error: {exc!r}"}}
            )
        if method not in ("GET", "HEAD", "OPTIONS"):
            self._changed()  # e.g. an update (no event) or a stored idempotent response
        response.headers.setdefault("Request-Id", request_id)
        response.headers.setdefault(
            "Stripe-Version", headers.get("Stripe-Version") or self.api_version
        )
        if method == "POST" and headers.get("Idempotency-Key"):
            response.headers["Idempotency-Key"] = headers["Idempotency-Key"]  # as Stripe echoes
        response.headers.update(CORS_HEADERS)
        return response

    def _handle(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        request_id: str,
    ) -> Response:
        if method == "OPTIONS":  # CORS preflight from a browser page
            return Response(204)
        try:
            params = parse_form(query)
            params.update(parse_body(body, headers.get("Content-Type") or ""))
        except (FormError, UnicodeDecodeError) as exc:
            return _error_response(invalid(f"Invalid request body: {exc}"))
        idempotency_key = headers.get("Idempotency-Key") or None
        call = _Call(method, path, params, headers, RequestContext(request_id, idempotency_key))
        try:
            handler, auth = self._route(call)
            if auth != NO_AUTH:
                call.role = self._authenticate(headers)
                if auth == SECRET and call.role != SECRET:
                    raise auth_error(
                        "This API call cannot be made with a publishable API key. "
                        "Please use a secret API key."
                    )
        except ApiError as exc:
            return _error_response(exc)
        if method != "POST" or auth == NO_AUTH or idempotency_key is None:
            return _to_response(self._execute(handler, call))
        try:
            stored, replayed = self.idempotency.run(
                idempotency_key, method, path, params, lambda: self._execute(handler, call)
            )
        except ApiError as exc:
            return _error_response(exc)
        response = _to_response(stored)
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
            response.headers["Original-Request"] = stored.request_id
        return response

    def _route(self, call: _Call) -> tuple[Handler, str]:
        for method, regex, auth, handler in _ROUTES:
            match = regex.match(call.path)
            if match and method == call.method:
                call.match = match.groupdict()
                return handler, auth
        if call.path.startswith("/v1/"):
            self._authenticate(call.headers)  # Stripe checks the key before routing
        raise ApiError(
            404,
            f"Unrecognized request URL ({call.method}: {call.path}). Please see "
            f"https://stripe.com/docs or we can help at https://support.stripe.com/.",
            code="resource_missing",
            replayable=False,
        )

    def _authenticate(self, headers: Mapping[str, str]) -> str:
        header = headers.get("Authorization") or ""
        scheme, _, credentials = header.partition(" ")
        key = ""
        if scheme.lower() == "bearer":
            key = credentials.strip()
        elif scheme.lower() == "basic":  # curl -u sk_test_...:
            try:
                key = base64.b64decode(credentials).decode().partition(":")[0]
            except ValueError:
                key = ""
        if not key:
            raise auth_error(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY')."
            )
        if _key_matches(key, self.api_key, "sk_test_"):
            return SECRET
        if _key_matches(key, self.publishable_key, "pk_test_"):
            return PUBLISHABLE
        raise auth_error(f"Invalid API Key provided: {_redact(key)}")

    def _execute(self, handler: Handler, call: _Call) -> StoredResponse:
        try:
            return StoredResponse(200, handler(self, call), call.ctx.request_id)
        except ApiError as exc:
            return StoredResponse(
                exc.status, exc.body(), call.ctx.request_id, exc.replayable, dict(exc.headers)
            )

    # ---------------------------------------------------------- shared helpers

    def _client_secret(self, call: _Call) -> None:
        """Verify ``client_secret`` if given; a publishable key must give it."""
        secret = call.params.pop("client_secret", None)
        if secret is None:
            if call.role == PUBLISHABLE:
                raise missing_param("client_secret")
            return
        self.state.check_client_secret(call.match["id"], str(secret))

    def _expanded(self, call: _Call, obj: dict[str, Any]) -> dict[str, Any]:
        return self.state.expand(obj, _expand_fields(call.params))

    def _list(
        self, call: _Call, object_type: str, url: str, filter_params: Sequence[str] = ()
    ) -> dict[str, Any]:
        expand = _expand_fields(call.params)
        allowed = {"limit", "starting_after", "ending_before", "created", *filter_params}
        for name in call.params:
            if name not in allowed:
                raise invalid(
                    f"Received unknown parameter: {name}", code="parameter_unknown", param=name
                )
        limit = _limit(call.params.get("limit"))
        filters = {name: call.params[name] for name in filter_params if call.params.get(name)}
        items, has_more = self.state.list(
            object_type,
            filters=filters,
            created=_created_filter(call.params.get("created")),
            limit=limit,
            starting_after=call.params.get("starting_after") or None,
            ending_before=call.params.get("ending_before") or None,
        )
        item_expand = [f[len("data.") :] for f in expand if f.startswith("data.")]
        data = [self.state.expand(item, item_expand) for item in items]
        return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _to_response(stored: StoredResponse) -> Response:
    # Deep copy: a stored idempotent response may be replayed (and mutated) many times.
    return Response(stored.status, copy.deepcopy(stored.body), dict(stored.headers))


def _error_response(exc: ApiError) -> Response:
    return Response(exc.status, exc.body(), dict(exc.headers))


def _key_matches(key: str, expected: str | None, prefix: str) -> bool:
    if expected is None:
        return key.startswith(prefix) and len(key) > len(prefix)
    return secrets.compare_digest(key.encode(), expected.encode())


def _redact(key: str) -> str:
    if len(key) <= 12:
        return "*" * len(key)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def _expand_fields(params: dict[str, Any]) -> list[str]:
    value = params.pop("expand", None)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise invalid("Invalid array", param="expand")


def _limit(value: Any) -> int:
    if value is None or value == "":
        return 10
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise invalid(
            f"Invalid integer: {value}", code="parameter_invalid_integer", param="limit"
        ) from None
    if not 1 <= limit <= 100:
        raise invalid(
            "This value must be between 1 and 100.", code="parameter_invalid_integer",
            param="limit",
        )  # fmt: skip
    return limit


def _created_filter(value: Any) -> dict[str, int] | None:
    """``created=<ts>`` or ``created[gt|gte|lt|lte]=<ts>``."""
    if value is None or value == "":
        return None
    raw = value if isinstance(value, dict) else {"eq": value}
    try:
        bounds = {op: int(ts) for op, ts in raw.items()}
    except (TypeError, ValueError):
        raise invalid("Invalid integer", param="created") from None
    if not set(bounds) <= {"eq", "gt", "gte", "lt", "lte"}:
        raise invalid("Invalid created filter", param="created")
    return bounds


# ------------------------------------------------------------------ /v1 routes


@route("POST", "/v1/payment_intents")
def _create_payment_intent(app: SimulatorApp, call: _Call) -> Any:
    expand = _expand_fields(call.params)
    return app.state.expand(app.state.create_payment_intent(call.params, call.ctx), expand)


@route("GET", "/v1/payment_intents")
def _list_payment_intents(app: SimulatorApp, call: _Call) -> Any:
    return app._list(call, "payment_intent", "/v1/payment_intents", ("customer",))


@route("GET", "/v1/payment_intents/{id}", PUBLISHABLE)
def _retrieve_payment_intent(app: SimulatorApp, call: _Call) -> Any:
    app._client_secret(call)
    pi = app.state.get("payment_intent", call.match["id"], param="intent")
    return app._expanded(call, pi)


@route("POST", "/v1/payment_intents/{id}")
def _update_payment_intent(app: SimulatorApp, call: _Call) -> Any:
    expand = _expand_fields(call.params)
    pi = app.state.update_payment_intent(call.match["id"], call.params, call.ctx)
    return app.state.expand(pi, expand)


@route("POST", "/v1/payment_intents/{id}/confirm", PUBLISHABLE)
def _confirm_payment_intent(app: SimulatorApp, call: _Call) -> Any:
    app._client_secret(call)
    expand = _expand_fields(call.params)
    pi = app.state.confirm_payment_intent(call.match["id"], call.params, call.ctx)
    return app.state.expand(pi, expand)


@route("POST", "/v1/payment_intents/{id}/cancel")
def _cancel_payment_intent(app: SimulatorApp, call: _Call) -> Any:
    expand = _expand_fields(call.params)
    pi = app.state.cancel_payment_intent(call.match["id"], call.params, call.ctx)
    return app.state.expand(pi, expand)


@route("POST", "/v1/refunds")
def _create_refund(app: SimulatorApp, call: _Call) -> Any:
    expand = _expand_fields(call.params)
    return app.state.expand(app.state.create_refund(call.params, call.ctx), expand)


@route("GET", "/v1/refunds")
def _list_refunds(app: SimulatorApp, call: _Call) -> Any:
    return app._list(call, "refund", "/v1/refunds", ("payment_intent", "charge"))


@route("GET", "/v1/refunds/{id}")
def _retrieve_refund(app: SimulatorApp, call: _Call) -> Any:
    return app._expanded(call, app.state.get("refund", call.match["id"], param="refund"))


@route("GET", "/v1/charges")
def _list_charges(app: SimulatorApp, call: _Call) -> Any:
    return app._list(call, "charge", "/v1/charges", ("payment_intent",))


@route("GET", "/v1/charges/{id}")
def _retrieve_charge(app: SimulatorApp, call: _Call) -> Any:
    return app._expanded(call, app.state.get("charge", call.match["id"], param="charge"))


@route("GET", "/v1/payment_methods/{id}")
def _retrieve_payment_method(app: SimulatorApp, call: _Call) -> Any:
    pm = app.state.get("payment_method", call.match["id"], param="payment_method")
    return app._expanded(call, pm)


@route("GET", "/v1/events")
def _list_events(app: SimulatorApp, call: _Call) -> Any:
    return app._list(call, "event", "/v1/events", ("type",))


@route("GET", "/v1/events/{id}")
def _retrieve_event(app: SimulatorApp, call: _Call) -> Any:
    return app.state.get("event", call.match["id"], param="id")


# --------------------------------------------------------- /_simulator/ routes


@route("GET", "/_simulator/events", NO_AUTH)
def _event_log(app: SimulatorApp, call: _Call) -> Any:
    return app.event_log()


@route("POST", "/_simulator/events/release", NO_AUTH)
def _release_events(app: SimulatorApp, call: _Call) -> Any:
    order = call.params.get("order") or None
    if isinstance(order, str) and order != "reverse":
        order = [item.strip() for item in order.split(",") if item.strip()]
    return {"released": app.release_events(order)}


@route("POST", "/_simulator/events/{id}/redeliver", NO_AUTH)
def _redeliver(app: SimulatorApp, call: _Call) -> Any:
    try:
        app.redeliver(call.match["id"])
    except KeyError:
        raise ApiError(
            404, f"No such event: '{call.match['id']}'", code="resource_missing", param="id"
        ) from None
    return {"redelivered": call.match["id"]}


@route("GET", "/_simulator/webhooks", NO_AUTH)
def _webhook_config(app: SimulatorApp, call: _Call) -> Any:
    return {
        "enabled": app.dispatcher.enabled,
        "url": app.webhook_url,
        "holding": app.dispatcher.holding,
    }


@route("POST", "/_simulator/webhooks", NO_AUTH)
def _configure_webhooks(app: SimulatorApp, call: _Call) -> Any:
    for name in ("enabled", "hold"):
        value = call.params.get(name)
        if value is not None and str(value).lower() not in ("true", "false"):
            raise invalid(f"Invalid boolean: {value}", param=name)
    if "enabled" in call.params:
        app.set_webhooks_enabled(str(call.params["enabled"]).lower() == "true")
    if "url" in call.params:
        app.webhook_url = call.params["url"] or None
    if str(call.params.get("hold", "")).lower() == "true":
        app.hold_events()
    elif str(call.params.get("hold", "")).lower() == "false":
        app.release_events()
    return _webhook_config(app, call)


@route("POST", "/_simulator/payment_intents/{id}/settle", NO_AUTH)
def _settle_processing(app: SimulatorApp, call: _Call) -> Any:
    return app.state.settle_processing(call.match["id"], call.params, call.ctx)


@route("POST", "/_simulator/payment_intents/{id}/dispute", NO_AUTH)
def _dispute(app: SimulatorApp, call: _Call) -> Any:
    return app.state.create_dispute(call.match["id"], call.params, call.ctx)


@route("POST", "/_simulator/reset", NO_AUTH)
def _reset(app: SimulatorApp, call: _Call) -> Any:
    app.reset()
    return {"reset": True}
