"""payments.gateway: money conversion and webhook signature checks (no network)."""

import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest

from payments import gateway
from payments.simulator import sign_payload

SECRET = "whsec_test_secret"  # pyproject's STRIPE_WEBHOOK_SECRET


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("149.99", "usd", 14999),
        ("149.99", "USD", 14999),
        ("0.01", "eur", 1),
        ("10", "usd", 1000),
        ("500", "jpy", 500),
        ("500", "JPY", 500),
        ("0.005", "usd", 1),  # half a cent rounds up
        ("1.005", "usd", 101),
        ("1.004", "usd", 100),
        ("500.5", "jpy", 501),  # half a yen rounds up
        ("500.49", "jpy", 500),
        ("12345678.90", "usd", 1234567890),
    ],
)
def test_to_minor_units(amount, currency, expected):
    result = gateway.to_minor_units(Decimal(amount), currency)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (14999, "usd", Decimal("149.99")),
        (1, "usd", Decimal("0.01")),
        (0, "usd", Decimal("0.00")),
        (500, "jpy", Decimal("500.00")),
        (7, "krw", Decimal("7.00")),
    ],
)
def test_from_minor_units(amount, currency, expected):
    result = gateway.from_minor_units(amount, currency)
    assert result == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("currency", ["usd", "eur", "jpy", "krw"])
def test_minor_units_round_trip(currency):
    amount = Decimal("149.00") if currency in gateway.ZERO_DECIMAL_CURRENCIES else Decimal("149.99")
    assert gateway.from_minor_units(gateway.to_minor_units(amount, currency), currency) == amount


def _event_body(event_id="evt_gateway_1"):
    return json.dumps(
        {"id": event_id, "object": "event", "type": "payment_intent.succeeded", "data": {}}
    )


def test_verify_webhook_accepts_a_good_signature():
    body = _event_body()
    event = gateway.verify_webhook(payload=body.encode(), signature=sign_payload(body, SECRET))
    assert event["id"] == "evt_gateway_1"
    assert event["type"] == "payment_intent.succeeded"


def test_verify_webhook_accepts_a_hand_computed_hmac():
    body = _event_body("evt_hand")
    ts = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
    event = gateway.verify_webhook(payload=body.encode(), signature=f"t={ts},v1={digest}")
    assert event["id"] == "evt_hand"


@pytest.mark.parametrize("signature", [None, ""])
def test_verify_webhook_rejects_a_missing_header(signature):
    with pytest.raises(gateway.InvalidSignature):
        gateway.verify_webhook(payload=_event_body().encode(), signature=signature)


def test_verify_webhook_rejects_the_wrong_secret():
    body = _event_body()
    with pytest.raises(gateway.InvalidSignature):
        gateway.verify_webhook(
            payload=body.encode(), signature=sign_payload(body, "whsec_someone_else")
        )


def test_verify_webhook_rejects_a_tampered_body():
    body = _event_body()
    signature = sign_payload(body, SECRET)
    tampered = body.replace("evt_gateway_1", "evt_gateway_2")
    with pytest.raises(gateway.InvalidSignature):
        gateway.verify_webhook(payload=tampered.encode(), signature=signature)


def test_verify_webhook_rejects_a_malformed_header():
    with pytest.raises(gateway.InvalidSignature):
        gateway.verify_webhook(payload=_event_body().encode(), signature="garbage")


def test_verify_webhook_rejects_a_signed_body_that_is_not_an_event():
    body = json.dumps({"hello": "world"})
    with pytest.raises(ValueError, match="Not a Stripe event"):
        gateway.verify_webhook(payload=body.encode(), signature=sign_payload(body, SECRET))


def test_verify_webhook_accepts_a_timestamp_within_tolerance():
    body = _event_body()
    signature = sign_payload(body, SECRET, timestamp=int(time.time()) - 200)
    assert gateway.verify_webhook(payload=body.encode(), signature=signature)["id"]


def test_verify_webhook_rejects_a_stale_timestamp():
    body = _event_body()
    signature = sign_payload(body, SECRET, timestamp=int(time.time()) - 301)
    with pytest.raises(gateway.InvalidSignature):
        gateway.verify_webhook(payload=body.encode(), signature=signature)


def test_verify_webhook_accepts_a_clock_a_little_ahead():
    body = _event_body()
    signature = sign_payload(body, SECRET, timestamp=int(time.time()) + 200)
    assert gateway.verify_webhook(payload=body.encode(), signature=signature)["id"]


def test_verify_webhook_rejects_a_timestamp_beyond_the_tolerance_in_the_future():
    body = _event_body()
    signature = sign_payload(body, SECRET, timestamp=int(time.time()) + 301)
    with pytest.raises(gateway.InvalidSignature, match="future"):
        gateway.verify_webhook(payload=body.encode(), signature=signature)


def test_verify_webhook_refuses_deep_nesting_before_decoding_it():
    body = '{"id": "evt_deep", "type": "t", "data": ' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(ValueError, match="nested deeper than 32 levels"):
        gateway.verify_webhook(payload=body.encode(), signature=sign_payload(body, SECRET))


@pytest.mark.parametrize(
    ("connect", "read", "retries", "seconds"),
    [
        (2, 5, 1, 2 * 7 + 0.5),  # the defaults (settings.STRIPE_*), documented in the README
        (2, 5, 0, 7),
        (0.5, 0.5, 2, 3 * 1 + 0.5 + 1),
        (1, 1, 5, 6 * 2 + 0.5 + 1 + 2 + 4 + 5),  # the SDK waits 5 s at most between tries
    ],
)
def test_worst_case_of_one_stripe_call(connect, read, retries, seconds):
    assert gateway.worst_case_seconds(connect=connect, read=read, retries=retries) == seconds
