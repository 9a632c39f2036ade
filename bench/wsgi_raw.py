"""Arm `http_raw`: the HTTP checkout's physical floor, served by gunicorn like the shop.

A minimal WSGI callable, no Django, no ORM, no Stripe SDK, doing the same work as
`POST /api/v1/orders/checkout`:

1. parse the JSON body `{"items": [{"product_id", "quantity"}, ...]}` (a 400 otherwise);
2. verify the `Authorization: Bearer` access token with PyJWT (HS256, the shop's
   JWT_SIGNING_KEY; expiry checked; `token_type` must be `access`), user id from its
   claims (a 401 otherwise);
3. the checkout transaction of the raw arm (bench.raw_sql.checkout: lock, stock check,
   stock UPDATE, order, items, audit; a 409 `insufficient_stock` as the shop answers it);
4. after the commit, the PaymentIntent at the Stripe simulator (STRIPE_API_BASE) with a
   bare urllib3 connection pool: the SDK's form body and idempotency key;
5. the payment step in raw SQL, one transaction: lock the order row, insert the payment,
   move the order to `payment_pending`, one audit row (the shop's `_store_payment_intent`
   without its look-up);
6. the order's JSON as the shop answers it (201).

Each thread keeps one psycopg connection (prepared statements after a few runs), as the
shop keeps its connections (CONN_MAX_AGE). GET /healthz answers 200 and GET
/__bench__/stats the shared counters of bench.httpstats (statements + COMMITs, counted
as the raw arm counts them).
"""

import json
import os
import threading
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

import jwt
import psycopg
import urllib3

from bench import httpstats, raw_sql
from bench.db import conninfo

CHECKOUT_PATH = "/api/v1/orders/checkout"
MAX_LINES, MAX_QUANTITY = 100, 1000  # as orders.checkout

LOCK_ORDER = "SELECT status FROM orders_order WHERE id = %s FOR UPDATE"
INSERT_PAYMENT = """
INSERT INTO payments_payment (order_id, stripe_payment_intent_id, client_secret, amount,
    currency, status, amount_received, amount_refunded, last_error, created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, 0, 0, '', now(), now())
"""
START_PAYMENT = """
UPDATE orders_order SET status = 'payment_pending', updated_at = now() WHERE id = %s
RETURNING updated_at
"""
AUDIT_START_PAYMENT = """
INSERT INTO audit_auditevent (occurred_at, action, entity_type, entity_id, before, after,
    request_id, actor_id)
VALUES (now(), 'order.start_payment', 'order', %s, '{"status": "created"}',
    '{"status": "payment_pending"}', '', NULL)
"""
CHECKOUT_STATEMENTS = raw_sql.STATEMENTS_PER_CHECKOUT + 1  # + COMMIT
PAYMENT_STATEMENTS = 4 + 1  # lock, payment, order, audit + COMMIT
CENT = Decimal("0.01")


class _Config:
    def __init__(self):
        self.conninfo = conninfo(os.environ["DATABASE_URL"])
        self.jwt_key = os.environ["JWT_SIGNING_KEY"]
        self.stripe_key = os.environ.get("STRIPE_SECRET_KEY", "")
        base = os.environ.get("STRIPE_API_BASE") or "https://api.stripe.com"
        self.stripe = urllib3.connection_from_url(
            base,
            maxsize=8,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=2.0, read=5.0),
        )


_config: _Config | None = None
_local = threading.local()


def _setup() -> _Config:
    global _config
    if _config is None:
        _config = _Config()
    return _config


def _connection(cfg: _Config) -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(cfg.conninfo)
    return conn


class _HttpError(Exception):
    def __init__(self, status: str, body: dict, *, statements: int = 0):
        super().__init__(status)
        self.status, self.body, self.statements = status, body, statements


def _lines(body: bytes) -> list[tuple[int, int]]:
    invalid = _HttpError("400 Bad Request", {"detail": "Invalid input.", "code": "invalid"})
    try:
        data = json.loads(body)
        items = data["items"]
        lines = [(line["product_id"], line["quantity"]) for line in items]
    except (ValueError, TypeError, KeyError):
        raise invalid from None
    ok = (
        0 < len(lines) <= MAX_LINES
        and all(type(p) is int and type(q) is int and 1 <= q <= MAX_QUANTITY for p, q in lines)
        and len({p for p, _ in lines}) == len(lines)
    )
    if not ok:
        raise invalid
    return lines


def _user_id(cfg: _Config, environ) -> int:
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    try:
        if scheme != "Bearer":
            raise jwt.InvalidTokenError("no bearer token")
        claims = jwt.decode(token, cfg.jwt_key, algorithms=["HS256"])
        if claims.get("token_type") != "access":
            raise jwt.InvalidTokenError("not an access token")
        return int(claims["user_id"])
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise _HttpError(
            "401 Unauthorized",
            {"detail": "Given token not valid for any token type", "code": "token_not_valid"},
        ) from None


def _payment_intent(cfg: _Config, placed: raw_sql.Placed) -> dict | None:
    """The PaymentIntent as the SDK would create it; None when the simulator fails (the
    order then stays `created`, as in the shop)."""
    amount = int((placed.total * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    body = urlencode(
        {
            "amount": amount,
            "currency": placed.currency,
            "metadata[order_id]": str(placed.order_id),
            "description": f"Order {placed.order_id}",
            "automatic_payment_methods[enabled]": "true",
        }
    )
    try:
        response = cfg.stripe.urlopen(
            "POST",
            "/v1/payment_intents",
            body=body,
            headers={
                "Authorization": f"Bearer {cfg.stripe_key}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Idempotency-Key": f"order-{placed.order_id}-payment-intent",
            },
        )
    except urllib3.exceptions.HTTPError:
        return None
    if response.status != 200:
        return None
    return json.loads(response.data)


def _start_payment(conn: psycopg.Connection, placed: raw_sql.Placed, intent: dict):
    """Record the PaymentIntent under the order's row lock; the order's new updated_at
    (None if something else had moved the order on)."""
    with conn.transaction():
        (status,) = conn.execute(LOCK_ORDER, (placed.order_id,)).fetchone()
        conn.execute(
            INSERT_PAYMENT,
            (
                placed.order_id,
                intent["id"],
                intent.get("client_secret") or "",
                placed.total,
                placed.currency,
                intent["status"],
            ),
        )
        if status != "created":
            return None
        (updated_at,) = conn.execute(START_PAYMENT, (placed.order_id,)).fetchone()
        conn.execute(AUDIT_START_PAYMENT, (str(placed.order_id),))
    return updated_at


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _time(value) -> str:
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _order_json(placed: raw_sql.Placed, intent: dict | None, updated_at) -> dict:
    """The shop's order object (orders.serializers.OrderSerializer), for its owner."""
    pending = intent is not None and updated_at is not None
    return {
        "id": str(placed.order_id),
        "status": "payment_pending" if pending else "created",
        "currency": placed.currency,
        "subtotal": _money(placed.total),
        # Nothing shipped, no coupon, no tax rate: the v1.1 breakdown of such a cart.
        "discount_total": "0.00",
        "shipping_total": "0.00",
        "tax_total": "0.00",
        "total": _money(placed.total),
        "coupon": None,
        "shipping_address": None,
        "shipping_method": None,
        "items": [
            {
                "product_id": pid,
                "sku": sku,
                "name": name,
                "unit_price": _money(price),
                "quantity": q,
                "line_total": _money(line),
            }
            for pid, sku, name, price, q, line in placed.items
        ],
        "payment": None
        if intent is None
        else {
            "payment_intent_id": intent["id"],
            "client_secret": (intent.get("client_secret") or None) if pending else None,
            "status": intent["status"],
        },
        "tracking_number": None,
        "expires_at": _time(placed.expires_at),
        "created_at": _time(placed.created_at),
        "updated_at": _time(updated_at or placed.created_at),
    }


def _checkout(cfg: _Config, environ) -> tuple[str, dict]:
    user_id = _user_id(cfg, environ)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    lines = _lines(environ["wsgi.input"].read(length))
    conn = _connection(cfg)
    statements = CHECKOUT_STATEMENTS
    try:
        placed = raw_sql.checkout(conn, user_id=user_id, lines=lines)
    except raw_sql.OutOfStock as exc:
        raise _HttpError(
            "409 Conflict",
            {
                "detail": f"Product {exc.product_id}: {exc.requested} requested, only "
                f"{exc.available} available.",
                "code": "insufficient_stock",
                "product_id": exc.product_id,
                "requested": exc.requested,
                "available": exc.available,
            },
            statements=2,  # the lock, then ROLLBACK
        ) from None
    except raw_sql.UnknownProduct:
        raise _HttpError(
            "400 Bad Request",
            {"detail": "A product does not exist or is not for sale.", "code": "invalid_cart"},
            statements=2,
        ) from None
    intent = _payment_intent(cfg, placed)
    updated_at = None
    if intent is not None:
        updated_at = _start_payment(conn, placed, intent)
        statements += PAYMENT_STATEMENTS
    httpstats.add(1, statements)
    return "201 Created", _order_json(placed, intent, updated_at)


def _respond(start_response, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body, separators=(",", ":")).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def application(environ, start_response):
    cfg = _setup()
    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
    if path == "/healthz":
        return _respond(start_response, "200 OK", {"status": "ok"})
    if path == "/__bench__/stats":
        return _respond(start_response, "200 OK", httpstats.read())
    if path != CHECKOUT_PATH:
        return _respond(
            start_response, "404 Not Found", {"detail": "Not found.", "code": "not_found"}
        )
    if method != "POST":
        return _respond(
            start_response,
            "405 Method Not Allowed",
            {"detail": "Method not allowed.", "code": "method_not_allowed"},
        )
    try:
        status, body = _checkout(cfg, environ)
    except _HttpError as exc:
        httpstats.add(1, exc.statements)
        status, body = exc.status, exc.body
    except psycopg.Error:
        # A broken connection is opened afresh by the next request of this thread.
        conn = getattr(_local, "conn", None)
        if conn is not None and conn.broken:
            _local.conn = None
        raise
    return _respond(start_response, status, body)
