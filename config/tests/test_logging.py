"""Structured JSON logs (config/logging.py): request id, user id, order id; no secrets."""

import io
import json
import logging

import pytest
import structlog
from django.conf import settings as django_settings

from audit.models import AuditEvent
from config.logging import REDACTED
from orders.models import Order
from payments.models import Payment
from payments.tests.helpers import intent_dict, make_event, signed
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
CARD = "4242424242424242"


@pytest.fixture
def json_logs():
    """Every log line written while the test runs, as the production formatter renders it."""
    spec = dict(django_settings.LOGGING["formatters"]["structured"])
    factory = spec.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(factory(**spec))
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.DEBUG)  # stricter than production (INFO): libraries' debug too

    class Lines:
        @property
        def raw(self) -> str:
            return stream.getvalue()

        @property
        def records(self) -> list[dict]:
            return [json.loads(line) for line in self.raw.splitlines() if line.strip()]

        def clear(self) -> None:
            stream.seek(0)
            stream.truncate()

        def named(self, event: str) -> list[dict]:
            return [r for r in self.records if r.get("event") == event]

    yield Lines()
    root.removeHandler(handler)
    root.setLevel(previous)


def test_every_line_is_json_with_level_time_and_logger(json_logs):
    logging.getLogger("shop.test").warning("stock is low for %s", "mug")
    structlog.get_logger("shop.test").info("order_paid", amount="10.00")

    first, second = json_logs.records
    assert first["event"] == "stock is low for mug"
    assert (first["level"], first["logger"]) == ("warning", "shop.test")
    assert first["timestamp"].endswith("Z")
    assert (second["event"], second["amount"], second["level"]) == ("order_paid", "10.00", "info")


def test_a_request_logs_one_line_with_its_request_id_and_user(client, json_logs):
    user = UserFactory()
    client.force_login(user)

    response = client.get("/cart/?q=secret-token", HTTP_X_REQUEST_ID="trace-123")

    assert response["X-Request-ID"] == "trace-123"
    (line,) = json_logs.named("request")
    assert line["request_id"] == "trace-123"
    assert line["user_id"] == user.pk
    assert (line["method"], line["path"], line["status"]) == ("GET", "cart/", 200)
    assert line["view"] == "shop:cart"
    assert isinstance(line["duration_ms"], float)
    assert "secret-token" not in json_logs.raw  # query strings are not logged


def test_a_password_reset_link_does_not_log_its_token(client, json_logs):
    token = "c2f-0123456789abcdef0123456789abcdef"

    client.get(f"/accounts/password/reset/MQ/{token}/")

    (line,) = json_logs.named("request")
    assert line["path"] == "accounts/password/reset/<uidb64>/<token>/"
    assert token not in json_logs.raw


def test_a_request_id_is_generated_when_the_caller_sends_none_or_a_bad_one(client, json_logs):
    response = client.get("/", HTTP_X_REQUEST_ID="bad id with spaces\n")

    generated = response["X-Request-ID"]
    assert len(generated) == 32 and generated.isalnum()
    assert json_logs.named("request")[0]["request_id"] == generated


def test_the_order_page_logs_its_order_id(client, json_logs):
    user = UserFactory()
    product = ProductFactory(stock=3)
    from orders.checkout import place_order

    order = place_order(user=user, lines=[(product.pk, 1)])
    client.force_login(user)

    client.get(order.get_absolute_url())

    assert json_logs.named("request")[-1]["order_id"] == str(order.pk)


def test_redaction_masks_secret_keys_and_secret_looking_values(json_logs):
    structlog.get_logger("shop.test").info(
        "careless",
        password="hunter2",
        card_number=CARD,
        note=f"paid with {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}",
        header="Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        nested={"client_secret": "pi_123_secret_456", "ok": "fine"},
        key="sk_live_abcdef123",
    )

    (line,) = json_logs.named("careless")
    assert line["password"] == REDACTED
    assert line["card_number"] == REDACTED
    assert line["note"] == f"paid with {REDACTED}"
    assert line["header"] == REDACTED
    assert line["nested"] == {"client_secret": REDACTED, "ok": "fine"}
    assert line["key"] == REDACTED


def test_a_checkout_and_its_webhook_log_no_secrets(
    client, json_logs, stripe_sim, django_capture_on_commit_callbacks
):
    user = UserFactory(email="buyer@example.com")
    product = ProductFactory(stock=5)
    json_logs.clear()  # test setup (factory_boy logs the password it sets) is not the shop

    # Sign in through the HTML form (the password travels in the request body) ...
    login = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert login.status_code == 302
    # ... and check out through the API with a bearer token.
    token = client.post(
        "/api/v1/auth/token",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
    ).json()["access"]
    with django_capture_on_commit_callbacks(execute=True):
        placed = client.post(
            "/api/v1/orders/checkout",
            {"items": [{"product_id": product.pk, "quantity": 1}]},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_IDEMPOTENCY_KEY="idem-log-1",
            HTTP_X_REQUEST_ID="checkout-req-1",
        )
    assert placed.status_code == 201
    order = Order.objects.get(pk=placed.json()["id"])
    payment = Payment.objects.get(order=order)
    assert payment.client_secret

    # Stripe reports the payment, with card details in the event as it really does.
    intent = intent_dict(order, pi_id=payment.stripe_payment_intent_id)
    intent["client_secret"] = payment.client_secret
    intent["payment_method_details"] = {"card": {"number": CARD, "last4": "4242"}}
    body, signature = signed(make_event("payment_intent.succeeded", intent))
    with django_capture_on_commit_callbacks(execute=True):
        hook = client.post(
            "/webhooks/stripe/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
            HTTP_X_REQUEST_ID="webhook-req-1",
        )
    assert hook.status_code == 200
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID

    raw = json_logs.raw
    for secret in (
        PASSWORD,
        token,
        payment.client_secret,
        CARD,
        signature,
        django_settings.STRIPE_SECRET_KEY,
        django_settings.STRIPE_WEBHOOK_SECRET,
        client.cookies["sessionid"].value,
    ):
        assert secret not in raw, secret

    # What is logged names the request, the user and the order.
    checkout_line = next(
        r for r in json_logs.named("request") if r["request_id"] == "checkout-req-1"
    )
    assert checkout_line["user_id"] == user.pk
    assert checkout_line["order_id"] == str(order.pk)
    assert checkout_line["status"] == 201
    (webhook_line,) = json_logs.named("webhook_event")
    assert webhook_line["request_id"] == "webhook-req-1"
    assert webhook_line["order_id"] == str(order.pk)
    assert webhook_line["outcome"] == "processed"
    # And the audit log carries the same request id as the log lines.
    created = AuditEvent.objects.get(action="order.created", entity_id=str(order.pk))
    assert created.request_id == "checkout-req-1"
