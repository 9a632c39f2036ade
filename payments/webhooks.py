"""Stripe webhooks: verify, store, then process each event exactly once.

Storing comes first, so an event is never lost even if processing fails; the unique
Stripe event id makes redeliveries harmless. Processing holds the event's row lock,
so two deliveries of one event racing each other run it once. A failure is recorded
on the event (error and traceback) and re-raised, so the view answers 500 and Stripe
retries; `manage.py replay_webhook_events` can run it again too.
"""

import traceback

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments import gateway, services
from payments.metrics import observe_webhook
from payments.models import WebhookEvent


def _payment_intent(obj, event_type):
    services.apply_payment_intent(
        payment_intent=obj, declined=event_type == "payment_intent.payment_failed"
    )


def _refund(obj, event_type):
    services.apply_refund(refund=obj)


def _charge_refunded(obj, event_type):
    if obj.get("payment_intent"):
        services.sync_refunds(payment_intent_id=obj["payment_intent"])


def _dispute(obj, event_type):
    services.flag_dispute(dispute=obj)


HANDLERS = {
    "payment_intent.succeeded": _payment_intent,
    "payment_intent.processing": _payment_intent,
    "payment_intent.payment_failed": _payment_intent,
    "payment_intent.canceled": _payment_intent,
    "refund.created": _refund,
    "refund.updated": _refund,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute,
}


def receive_event(*, payload: bytes, signature: str | None) -> WebhookEvent:
    """Verify a delivery and store its event (or find the stored copy of a redelivery).

    Raises gateway.InvalidSignature or ValueError; nothing is stored then.
    """
    event = gateway.verify_webhook(payload=payload, signature=signature)
    try:
        with transaction.atomic():
            stored, _ = WebhookEvent.objects.get_or_create(
                stripe_event_id=event["id"],
                defaults={"type": event["type"], "payload": event},
            )
    except IntegrityError:  # a concurrent delivery of the same event stored it first
        stored = WebhookEvent.objects.get(stripe_event_id=event["id"])
    return stored


def process_event(*, event: WebhookEvent, force: bool = False) -> bool:
    """Process a stored event unless it already was (or always, with `force`).

    Returns True when it ran the handler. Handlers are idempotent, so a forced replay
    changes nothing that is already right.
    """
    failure = None
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if event.status == WebhookEvent.Status.PROCESSED and not force:
            observe_webhook(event=event, outcome="duplicate")
            return False
        if event.payload is None:
            # Processed long ago and pruned (retention): nothing left to replay.
            return False
        event.attempts += 1
        handler = HANDLERS.get(event.type)
        try:
            with transaction.atomic():
                if handler is not None:
                    handler(event.payload["data"]["object"], event.type)
        except Exception as exc:
            failure = exc
            event.status = WebhookEvent.Status.FAILED
            event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            event.traceback = traceback.format_exc()
        else:
            event.status = WebhookEvent.Status.PROCESSED
            event.processed_at = timezone.now()
            event.last_error = ""
            event.traceback = ""
        event.save()
    observe_webhook(event=event, outcome="failed" if failure is not None else "processed")
    if failure is not None:
        raise failure
    return True
