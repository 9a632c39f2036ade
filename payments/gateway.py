"""The only module that talks to Stripe (or, offline, to the Stripe simulator).

Uses the official SDK, over its own HTTP transport (`_PooledHTTPClient`, below);
`STRIPE_API_BASE` only redirects it. Every call has
a timeout and an idempotency key where it creates something, so a retry never makes a
second PaymentIntent or refund. Network and Stripe server failures surface as
PaymentUnavailable; Stripe's answers come back as plain dicts.
"""

import functools
import time
from decimal import ROUND_HALF_UP, Decimal

import stripe
import urllib3
from django.conf import settings

from core import untrusted
from payments.exceptions import PaymentUnavailable

# Stripe's zero-decimal currencies: amounts are sent in whole units.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
# Seconds a webhook signature stays valid, as Stripe's own libraries default to.
WEBHOOK_TOLERANCE = stripe.Webhook.DEFAULT_TOLERANCE

InvalidSignature = stripe.SignatureVerificationError
CardError = stripe.CardError
StripeError = stripe.StripeError


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Decimal money to Stripe's integer amount (cents, or whole yen)."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return int(amount.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_minor_units(amount: int, currency: str) -> Decimal:
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return Decimal(amount).quantize(Decimal("0.01"))
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


def _client() -> stripe.StripeClient:
    return _client_for(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        (settings.STRIPE_CONNECT_TIMEOUT, settings.STRIPE_READ_TIMEOUT),
    )


@functools.lru_cache(maxsize=4)
def _client_for(
    api_key: str, api_base: str, retries: int, timeout: tuple[float, float]
) -> stripe.StripeClient:
    # One client per configuration and process: its connection pool keeps connections
    # to Stripe alive instead of opening one per call.
    return stripe.StripeClient(
        api_key=api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=_PooledHTTPClient(timeout=timeout),
    )


class _PooledHTTPClient(stripe.HTTPClient):
    """The SDK's transport over one urllib3 pool per process (thread-safe, persistent
    connections, certificates checked against the SDK's bundle).

    The SDK's default, requests, cost twice the CPU per call on our side (measured with
    `python -m bench.profile`, bench/README.md): among other things each call scans the
    environment for proxy settings. No proxy is used: outbound proxies, where needed,
    are the network's business (Stripe publishes its IP ranges for firewalls).
    Network failures raise APIConnectionError marked retryable, as the SDK's own
    clients do, so `max_network_retries` and PaymentUnavailable work as before.
    """

    name = "urllib3"

    def __init__(self, *, timeout: tuple[float, float]):
        super().__init__()
        self._pool = urllib3.PoolManager(
            num_pools=4,
            maxsize=32,  # connections kept per host: one per concurrent thread is plenty
            block=False,
            retries=False,  # the SDK retries, with its back-off and idempotency keys
            timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
            ca_certs=stripe.ca_bundle_path,
        )

    def request(self, method, url, headers, post_data=None):
        try:
            response = self._pool.request(
                method, url, headers=headers, body=post_data, redirect=False
            )
        except urllib3.exceptions.HTTPError as exc:
            raise stripe.APIConnectionError(
                f"Could not reach Stripe: {type(exc).__name__}: {exc}", should_retry=True
            ) from exc
        return response.data, response.status, response.headers

    def close(self):
        self._pool.clear()


def worst_case_seconds(*, connect: float, read: float, retries: int) -> float:
    """The longest one call can hold its thread when Stripe does not answer: every try
    times out (connecting, or waiting for the first byte of the answer) and the SDK
    sleeps between tries, at most 0.5 s, 1 s, 2 s ... (5 s at most) before each retry.

    A server that trickles an answer byte by byte is not bounded by this (each read
    restarts the read timeout); gunicorn's timeout is the backstop for that.
    """
    delay = stripe.HTTPClient.INITIAL_DELAY
    sleeps = sum(min(delay * 2**n, stripe.HTTPClient.MAX_DELAY) for n in range(retries))
    return (retries + 1) * (connect + read) + sleeps


def _call(fn, *args, **kwargs) -> dict:
    try:
        return fn(*args, **kwargs).to_dict()
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise PaymentUnavailable() from exc
    except stripe.APIError as exc:  # Stripe's own 5xx
        raise PaymentUnavailable() from exc


def create_payment_intent(*, order) -> dict:
    """Create (or, on a retry, get back) the PaymentIntent for an order.

    The idempotency key is derived from the order id, so however often this is
    retried, Stripe keeps one PaymentIntent per order.
    """
    return _create_payment_intent(
        amount=order.total,
        currency=order.currency,
        metadata={"order_id": str(order.pk)},
        description=f"Order {order.pk}",
        idempotency_key=f"order-{order.pk}-payment-intent",
    )


def create_deposit_payment_intent(*, deposit) -> dict:
    """Create (or get back) the PaymentIntent of a wallet deposit; one per deposit, as
    for orders. Its metadata names the deposit, never an order."""
    return _create_payment_intent(
        amount=deposit.amount,
        currency=deposit.currency,
        metadata={"deposit_id": str(deposit.pk)},
        description=f"Wallet deposit {deposit.pk}",
        idempotency_key=f"deposit-{deposit.pk}-payment-intent",
    )


def _create_payment_intent(
    *, amount: Decimal, currency: str, metadata: dict, description: str, idempotency_key: str
) -> dict:
    return _call(
        _client().v1.payment_intents.create,
        params={
            "amount": to_minor_units(amount, currency),
            "currency": currency,
            "metadata": metadata,
            "description": description,
            "automatic_payment_methods": {"enabled": True},
        },
        options={"idempotency_key": idempotency_key},
    )


def retrieve_payment_intent(payment_intent_id: str) -> dict:
    return _call(_client().v1.payment_intents.retrieve, payment_intent_id)


def cancel_payment_intent(payment_intent_id: str, *, reason: str = "abandoned") -> dict:
    return _call(
        _client().v1.payment_intents.cancel,
        payment_intent_id,
        params={"cancellation_reason": reason},
    )


def cancel_or_retrieve_payment_intent(payment_intent_id: str, *, reason: str) -> dict:
    """Cancel the PaymentIntent unless Stripe says it can no longer be cancelled (it
    succeeded, or was cancelled already); either way return it as Stripe has it now.

    Once this returns, no payment can succeed on it that the answer does not show.
    """
    try:
        return cancel_payment_intent(payment_intent_id, reason=reason)
    except stripe.InvalidRequestError as exc:
        if exc.code != "payment_intent_unexpected_state":
            raise
    return retrieve_payment_intent(payment_intent_id)


def list_payment_intents(*, created_since: int) -> list[dict]:
    """Every PaymentIntent created at or after `created_since` (Unix time), newest first,
    following Stripe's pages."""
    params = {"created": {"gte": created_since}, "limit": 100}
    intents: list[dict] = []
    while True:
        page = _call(_client().v1.payment_intents.list, params=params)
        intents.extend(page["data"])
        if not page.get("has_more") or not page["data"]:
            return intents
        params = {**params, "starting_after": page["data"][-1]["id"]}


def create_refund(*, refund) -> dict:
    """Ask Stripe for a refund recorded by the shop; keyed by its id, so sent once."""
    payment = refund.payment
    return _call(
        _client().v1.refunds.create,
        params={
            "payment_intent": payment.stripe_payment_intent_id,
            "amount": to_minor_units(refund.amount, payment.currency),
            "metadata": {"shop_refund_id": str(refund.pk), "order_id": str(payment.order_id)},
        },
        options={"idempotency_key": f"shop-refund-{refund.pk}"},
    )


def list_refunds(payment_intent_id: str) -> list[dict]:
    page = _call(
        _client().v1.refunds.list, params={"payment_intent": payment_intent_id, "limit": 100}
    )
    return page["data"]


def verify_webhook(*, payload: bytes, signature: str | None) -> dict:
    """Check a webhook's Stripe-Signature against the raw body and return the event.

    Raises InvalidSignature for a missing, wrong or stale signature (the SDK's default
    tolerance of 300 s rejects replayed old deliveries), or one dated more than that in
    the future, and ValueError for a body that is not a JSON event (or nests too deep).
    """
    if not signature:
        raise InvalidSignature("Missing Stripe-Signature header.", signature)
    text = payload.decode("utf-8")
    # verify_header checks the timestamp only when given a tolerance; its default is None.
    stripe.WebhookSignature.verify_header(
        text, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE
    )
    # The SDK refuses only old timestamps; a future one would stay replayable until then.
    if _signed_at(signature) > time.time() + WEBHOOK_TOLERANCE:
        raise InvalidSignature("Timestamp too far in the future.", signature)
    event = untrusted.loads(text)
    if not isinstance(event, dict) or not {"id", "type", "data"} <= event.keys():
        raise ValueError("Not a Stripe event.")
    return event


def _signed_at(signature: str) -> int:
    """The `t=` timestamp of a Stripe-Signature header verify_header has accepted."""
    for item in signature.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            return int(value)
    raise InvalidSignature("No timestamp in the Stripe-Signature header.", signature)
