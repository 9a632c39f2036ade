"""Celery tasks for accounts."""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="shop.tasks.flush_expired_tokens")
def flush_expired_tokens() -> None:
    """Daily (beat): delete expired refresh tokens and their blacklist entries
    (simplejwt's `flushexpiredtokens`; one DELETE, harmless when two workers run it)."""
    call_command("flushexpiredtokens")
