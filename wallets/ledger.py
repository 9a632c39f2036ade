"""Wallet balances: the only code that changes them (as shop.inventory is for stock).

A balance moves only by appending a LedgerEntry to the wallet while its row is locked
(SELECT ... FOR UPDATE), in the caller's transaction: the entry starts where the
previous one ended, the wallet's balance and entry count follow it, and an audit event
records it. The database backs every rule: the unique (wallet, sequence), the CHECKs
on each entry and on customer balances, and the triggers that keep the ledger
append-only and chained (wallets/migrations/0002).

Lock order (docs/architecture.md, "one global lock order"): a transaction that also
locks an order locks it first; wallet rows follow, by id; inventory rows come last.
"""

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext

from audit.actions import Action, Entity
from audit.services import record
from core.money import format_amount, round_money
from wallets.exceptions import InsufficientFunds, InvalidAmount
from wallets.models import EntryType, LedgerEntry, Wallet

ENTRY_ACTIONS = {
    EntryType.DEPOSIT: Action.WALLET_DEPOSIT,
    EntryType.WITHDRAWAL: Action.WALLET_WITHDRAWAL,
    EntryType.WITHDRAWAL_REVERSAL: Action.WALLET_WITHDRAWAL_REVERSAL,
    EntryType.PAYMENT: Action.WALLET_PAYMENT,
    EntryType.REFUND: Action.WALLET_REFUND,
    EntryType.EARNING: Action.WALLET_EARNING,
    EntryType.EARNING_REVERSAL: Action.WALLET_EARNING_REVERSAL,
    EntryType.ADJUSTMENT: Action.WALLET_ADJUSTMENT,
}


def wallet_for(*, user) -> Wallet:
    """The user's wallet, created on first use (balance 0.00, the shop currency)."""
    wallet, _ = Wallet.objects.get_or_create(
        user=user, defaults={"currency": settings.SHOP_CURRENCY}
    )
    return wallet


def merchant_wallet_for(*, user_id) -> Wallet:
    """The merchant's wallet, made a merchant wallet (one whose earnings may be reversed
    below zero) if it was a customer's; created on first use. Never call it with wallet
    rows locked (before `lock()`): a new row must not be locked out of id order."""
    wallet, _ = Wallet.objects.get_or_create(
        user_id=user_id,
        defaults={"currency": settings.SHOP_CURRENCY, "kind": Wallet.Kind.MERCHANT},
    )
    if wallet.kind != Wallet.Kind.MERCHANT:
        # Customer -> merchant only loosens one rule, so no lock is needed for it.
        Wallet.objects.filter(pk=wallet.pk).update(kind=Wallet.Kind.MERCHANT)
        wallet.kind = Wallet.Kind.MERCHANT
    return wallet


def lock(*, wallet_ids) -> dict[int, Wallet]:
    """Lock the wallet rows of `wallet_ids` in id order; one query. Must run inside a
    transaction (after the order row, before any inventory row)."""
    rows = Wallet.objects.filter(pk__in=set(wallet_ids)).select_for_update().order_by("pk")
    return {wallet.pk: wallet for wallet in rows}


def lock_of(*, user) -> Wallet | None:
    """Lock the user's wallet (None if the user never had one). Inside a transaction."""
    return Wallet.objects.select_for_update().filter(user=user).first()


def may_go_below_zero(*, wallet: Wallet, type: EntryType) -> bool:
    """Only a merchant's wallet, and only when its earnings are reversed by a refund."""
    return wallet.kind == Wallet.Kind.MERCHANT and type == EntryType.EARNING_REVERSAL


def post(
    *,
    wallet: Wallet,
    type: EntryType,
    amount: Decimal,
    reference: str = "",
    note: str = "",
    actor=None,
) -> LedgerEntry:
    """Append an entry of `amount` (credits positive, debits negative) to `wallet`,
    which the caller locked with `lock()` or `lock_of()` in its transaction; the
    wallet object is updated in place and saved.

    Raises InvalidAmount for a zero amount or one with more than two decimal places,
    InsufficientFunds when a debit would take the balance below zero (see
    `may_go_below_zero`).
    """
    amount = Decimal(amount)
    if amount == 0 or amount != round_money(amount):
        raise InvalidAmount(f"{amount} is not an amount of money the ledger can take.")
    before = wallet.balance
    after = before + amount
    if amount < 0 and after < 0 and not may_go_below_zero(wallet=wallet, type=type):
        raise InsufficientFunds(
            gettext("The balance of %(balance)s does not cover %(amount)s.")
            % {
                "balance": format_amount(before, wallet.currency),
                "amount": format_amount(-amount, wallet.currency),
            }
        )
    entry = LedgerEntry.objects.create(
        wallet=wallet,
        sequence=wallet.entry_count + 1,
        type=type,
        amount=amount,
        balance_before=before,
        balance_after=after,
        reference=str(reference),
        note=note,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    wallet.balance = after
    wallet.entry_count = entry.sequence
    wallet.save(update_fields=["balance", "entry_count", "updated_at"])
    record(
        action=ENTRY_ACTIONS[EntryType(type)],
        entity_type=Entity.WALLET,
        entity_id=wallet.pk,
        actor=actor,
        before={"balance": str(before)},
        after={
            "balance": str(after),
            "entry": entry.pk,
            "sequence": entry.sequence,
            "type": str(type),
            "amount": str(amount),
            "reference": entry.reference,
            **({"note": note} if note else {}),
        },
    )
    return entry
