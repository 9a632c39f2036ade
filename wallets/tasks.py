"""Celery tasks for wallets: thin wrappers around wallets.services."""

from celery import shared_task

from wallets import services


@shared_task(name="wallets.tasks.check_wallet_drift")
def check_wallet_drift() -> int:
    """Nightly (beat): report wallets whose ledger breaks an invariant; returns how many."""
    return len(services.check_wallet_drift())
