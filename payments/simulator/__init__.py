"""Offline Stripe simulator: the subset of Stripe's REST API the shop uses.

A standalone stdlib HTTP server (no Django imports) that the *official, unchanged* Stripe SDK
talks to::

    sim = StripeSimulator(webhook_url="http://127.0.0.1:8000/webhooks/stripe/",
                          webhook_secret="whsec_...", retry_delays=(1, 2, 4, 8, 16))
    sim.start()                          # daemon thread; port=0 picks a free port
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": sim.url})
    pi = client.v1.payment_intents.create({"amount": 1000, "currency": "usd"})
    sim.wait_for_deliveries(timeout=10)  # webhooks are sent by a background thread
    sim.stop()

Or from Django: ``python manage.py stripe_simulator --port 12111 --webhook-url URL``.

Constructor: ``StripeSimulator(host="127.0.0.1", port=0, *, webhook_url=None,
webhook_secret="whsec_simulator", api_key=None, publishable_key=None,
retry_delays=(1, 2, 4, 8, 16), webhook_timeout=10.0, webhook_workers=8,
api_version=<SDK's>, log=None, state_file=None)``.
``api_key=None`` accepts any ``sk_test_...`` key (and ``publishable_key=None`` any
``pk_test_...``); otherwise exactly that key. ``log`` is a callable receiving one line per
request and per delivery attempt. ``state_file``: keep everything in that JSON file (see
below).

Python API (besides ``start/stop/serve_forever/url``; usable as a context manager):
  ``webhook_url`` (settable at any time), ``events`` (event dicts in creation order),
  ``event_log()`` (events plus ``delivery: {status, attempts}``),
  ``wait_for_deliveries(timeout) -> bool``, ``set_webhooks_enabled(bool)``,
  ``redeliver(event_id)``, ``dispute(pi_id, reason="fraudulent")``,
  ``settle_processing(pi_id, outcome="succeeded" | "failed")`` (for ``pm_card_processing``,
  the simulator's own test method whose charge stays pending),
  ``hold_events()`` / ``release_events(order=None | "reverse" | [ids or types first])``,
  ``reset()``.

API endpoints (form-encoded with bracket notation, JSON answers, Stripe error bodies):
  POST /v1/payment_intents, GET /v1/payment_intents, GET|POST /v1/payment_intents/{id},
  POST /v1/payment_intents/{id}/confirm, POST /v1/payment_intents/{id}/cancel,
  POST /v1/refunds, GET /v1/refunds[?payment_intent=|charge=], GET /v1/refunds/{id},
  GET /v1/charges[?payment_intent=], GET /v1/charges/{id}, GET /v1/payment_methods/{id},
  GET /v1/events[?type=], GET /v1/events/{id}.
  Lists take limit/starting_after/ending_before/created. ``expand`` works one level deep for
  id fields (e.g. ``expand[]=latest_charge``). Unknown params are rejected (400
  ``parameter_unknown``) like Stripe; harmless ones the shop might send (receipt_email,
  statement_descriptor, shipping, customer, return_url, ...) are accepted and ignored.

Auth: ``Authorization: Bearer <key>`` (or Basic). A publishable key may only call
  GET /v1/payment_intents/{id} and POST /v1/payment_intents/{id}/confirm, and must pass the
  PaymentIntent's ``client_secret`` (like Stripe.js); everything else needs the secret key.
  All responses carry CORS headers and OPTIONS preflights are answered, so a browser page can
  confirm a payment directly.

Payments: confirm with ``payment_method`` = pm_card_visa / pm_card_mastercard (succeed),
  pm_card_chargeDeclined (402 card_declined/generic_decline) or
  pm_card_chargeDeclinedInsufficientFunds (402 card_declined/insufficient_funds), or with
  ``payment_method_data[type]=card&payment_method_data[card][number]=`` 4242424242424242,
  5555555555554444, 4000000000000002, 4000000000009995 (spaces and dashes ignored). Any other
  number is rejected with 402 card_error ``incorrect_number`` *before* any charge attempt: the
  PaymentIntent and the event log are unchanged. A decline leaves the PaymentIntent in
  requires_payment_method with ``last_payment_error`` and a failed charge, and emits
  ``charge.failed`` + ``payment_intent.payment_failed``; success emits ``charge.succeeded`` +
  ``payment_intent.succeeded``. capture_method=manual is not supported. As on Stripe,
  metadata/description stay updatable after success; amount etc. do not.

Idempotency-Key: Stripe's semantics (replay with ``Idempotent-Replayed: true``; other params
  or endpoint -> 400 idempotency_error; validation errors are not stored). Concurrent requests
  with one key wait for the first and get its replay (Stripe would answer 409).

Webhooks: each event is POSTed as JSON to ``webhook_url`` with a Stripe-Signature header
  (``t=...,v1=...``) that ``stripe.Webhook.construct_event`` verifies with the secret.
  ``webhook_workers`` threads deliver in parallel; the events of one PaymentIntent (its
  charges', refunds' and disputes' included) go one at a time in creation order. A non-2xx
  answer (redirects included), timeout or connection error is retried after each of
  ``retry_delays`` in turn (without blocking later events), then given up. Held events don't
  count for ``wait_for_deliveries()``.

State file (``state_file=`` / ``--state FILE``): objects, events, stored idempotent responses,
  delivery records and the webhook switches are written to the file (atomically, at most every
  0.2 s and on stop) and read back on start; deliveries that were pending are sent again.

Test controls under /_simulator/ (no auth; form or JSON bodies):
  GET  /_simulator/events                      all events with delivery status and attempts
  POST /_simulator/events/{id}/redeliver       send an event again (same payload, new signature)
  POST /_simulator/events/release  order=...   release held events ("reverse" or comma list)
  GET  /_simulator/webhooks                    {"enabled", "url", "holding"}
  POST /_simulator/webhooks  enabled=false     stop delivering (events still recorded, marked
                                               "disabled": lost webhooks); true resumes for
                                               new events. Also url=<new url>, hold=true|false.
  POST /_simulator/payment_intents/{id}/dispute  emits charge.dispute.created (reason, amount)
  POST /_simulator/payment_intents/{id}/settle   finishes a processing PaymentIntent (outcome)
  POST /_simulator/reset                       forget everything
"""

from .server import StripeSimulator
from .webhooks import sign_payload

__all__ = ["StripeSimulator", "sign_payload"]
