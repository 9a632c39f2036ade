"""Helpers for the wallet tests: money put into wallets through the real services."""

from decimal import Decimal

from shop.tests.factories import StaffFactory
from wallets import ledger, services
from wallets.models import LedgerEntry, Wallet


def treasurer():
    """Staff holding every permission (a superuser)."""
    return StaffFactory(is_superuser=True)


def fund(user, amount, *, actor=None) -> Wallet:
    """Put `amount` into the user's wallet (created on first use) by a staff adjustment."""
    wallet = ledger.wallet_for(user=user)
    services.adjust_balance(
        wallet=wallet, amount=Decimal(amount), reason="test funds", actor=actor or treasurer()
    )
    return Wallet.objects.get(pk=wallet.pk)


def balance(user) -> Decimal:
    return Wallet.objects.get(user=user).balance


def ledger_of(user) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(type, amount, balance_before, balance_after) of the user's entries, oldest first."""
    return list(
        LedgerEntry.objects.filter(wallet__user=user)
        .order_by("sequence")
        .values_list("type", "amount", "balance_before", "balance_after")
    )
