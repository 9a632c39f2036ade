"""Celery tasks for payments: thin wrappers around payments.services."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from payments import services


@shared_task(name="payments.tasks.reconcile_payments")
def reconcile_payments(older_than_seconds: int | None = None) -> int:
    """Every 2 minutes (beat): apply Stripe's state to payments open too long (default
    services.reconcile_age()) and to PaymentIntents the shop never stored.

    Idempotent (apply_payment_intent re-reads and locks the order), so an overlapping
    run on another worker only asks Stripe twice.
    """
    older_than = None if older_than_seconds is None else timedelta(seconds=older_than_seconds)
    return services.reconcile_payments(older_than=older_than)


@shared_task(name="payments.tasks.prune_webhook_payloads")
def prune_webhook_payloads() -> int:
    """Daily (beat): drop the payloads of processed Stripe events past their retention."""
    return services.prune_webhook_payloads(
        older_than=timedelta(days=settings.WEBHOOK_PAYLOAD_RETENTION_DAYS)
    )
