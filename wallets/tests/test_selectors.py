"""wallet_discrepancies(): silent on a sound ledger, and names each broken rule (the
database's own guards are switched off inside the test's transaction to break them)."""

from decimal import Decimal

import pytest
from django.db import connection, transaction

from shop.tests.factories import UserFactory
from wallets import ledger
from wallets.models import EntryType, LedgerEntry, Wallet
from wallets.selectors import wallet_discrepancies
from wallets.tests.helpers import fund

pytestmark = pytest.mark.django_db
D = Decimal
T = EntryType


def _execute(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _switch_off(sql):
    """ALTER the ledger table inside the test's transaction (rolled back after it);
    deferred FK checks of earlier inserts must fire first or PostgreSQL refuses."""
    _execute("SET CONSTRAINTS ALL IMMEDIATE")
    _execute(sql)


def _raw_entry(wallet, *, sequence, type, amount, before, after):
    LedgerEntry.objects.create(
        wallet=wallet,
        sequence=sequence,
        type=type,
        amount=D(amount),
        balance_before=D(before),
        balance_after=D(after),
        reference=f"raw-{sequence}",
    )


@pytest.fixture
def funded():
    return fund(UserFactory(), "30.00")


def _broken():
    return {p["wallet_id"]: p["broken"] for p in wallet_discrepancies()}


def test_a_sound_ledger_has_no_discrepancies(funded):
    with transaction.atomic():
        wallet = ledger.lock(wallet_ids=[funded.pk])[funded.pk]
        ledger.post(wallet=wallet, type=T.PAYMENT, amount=D("-30.00"), reference="o1")
    ledger.wallet_for(user=UserFactory())  # a wallet without entries is sound too
    assert wallet_discrepancies() == []


def test_a_balance_that_is_not_the_sum_of_the_entries(funded):
    Wallet.objects.filter(pk=funded.pk).update(balance=D("31.00"))
    (problem,) = wallet_discrepancies()
    assert problem == {
        "wallet_id": funded.pk,
        "kind": "customer",
        "balance": D("31.00"),
        "sum_of_entries": D("30.00"),
        "entries": 1,
        "broken": ["balance != sum of entries", "balance != last entry's balance_after"],
    }


def test_an_entry_count_that_is_not_the_number_of_entries(funded):
    Wallet.objects.filter(pk=funded.pk).update(entry_count=2)
    assert _broken() == {funded.pk: ["entry_count != number of entries"]}


def test_a_broken_chain_and_a_gap(funded):
    _switch_off("ALTER TABLE wallets_ledgerentry DISABLE TRIGGER wallets_ledger_chain")
    _raw_entry(funded, sequence=2, type=T.DEPOSIT, amount="5.00", before="29.00", after="34.00")
    _raw_entry(funded, sequence=4, type=T.DEPOSIT, amount="1.00", before="34.00", after="35.00")
    Wallet.objects.filter(pk=funded.pk).update(balance=D("36.00"), entry_count=3)
    assert _broken() == {
        funded.pk: [
            "balance != last entry's balance_after",
            "an entry does not start where the previous one ended",
            "entries are not numbered without gaps",
        ]
    }


def test_a_first_entry_not_starting_at_zero():
    wallet = ledger.wallet_for(user=UserFactory())
    _switch_off("ALTER TABLE wallets_ledgerentry DISABLE TRIGGER wallets_ledger_chain")
    _raw_entry(wallet, sequence=1, type=T.DEPOSIT, amount="5.00", before="1.00", after="6.00")
    Wallet.objects.filter(pk=wallet.pk).update(balance=D("5.00"), entry_count=1)
    assert _broken() == {
        wallet.pk: [
            "balance != last entry's balance_after",
            "the first entry does not start at 0.00 as number 1",
        ]
    }


def test_an_entry_whose_after_is_not_before_plus_amount(funded):
    _switch_off(
        "ALTER TABLE wallets_ledgerentry DROP CONSTRAINT ledger_balance_after_is_before_plus_amount"
    )
    _raw_entry(funded, sequence=2, type=T.DEPOSIT, amount="5.00", before="30.00", after="40.00")
    Wallet.objects.filter(pk=funded.pk).update(balance=D("40.00"), entry_count=2)
    assert _broken() == {
        funded.pk: [
            "balance != sum of entries",
            "an entry's balance_after != balance_before + amount",
        ]
    }


def test_the_sign_rules():
    merchant = ledger.wallet_for(user=UserFactory())
    Wallet.objects.filter(pk=merchant.pk).update(kind=Wallet.Kind.MERCHANT)
    # Below zero through an adjustment: the ledger service refuses it; written directly.
    _raw_entry(merchant, sequence=1, type=T.ADJUSTMENT, amount="-2.00", before="0", after="-2.00")
    Wallet.objects.filter(pk=merchant.pk).update(balance=D("-2.00"), entry_count=1)
    customer = ledger.wallet_for(user=UserFactory())
    _switch_off("ALTER TABLE wallets_ledgerentry DROP CONSTRAINT ledger_amount_sign_matches_type")
    _raw_entry(customer, sequence=1, type=T.REFUND, amount="-1.00", before="0", after="-1.00")
    assert _broken() == {
        merchant.pk: ["below zero other than by an earning reversal"],
        customer.pk: [
            "balance != sum of entries",
            "balance != last entry's balance_after",
            "entry_count != number of entries",
            "below zero other than by an earning reversal",
            "an entry's amount has the wrong sign for its type",
        ],
    }


def test_a_merchant_below_zero_by_an_earning_reversal_is_sound():
    merchant = ledger.wallet_for(user=UserFactory())
    Wallet.objects.filter(pk=merchant.pk).update(kind=Wallet.Kind.MERCHANT)
    with transaction.atomic():
        wallet = ledger.lock(wallet_ids=[merchant.pk])[merchant.pk]
        ledger.post(wallet=wallet, type=T.EARNING_REVERSAL, amount=D("-4.00"), reference="o1")
        ledger.post(wallet=wallet, type=T.EARNING, amount=D("1.00"), reference="o2")
    assert wallet_discrepancies() == []
    Wallet.objects.filter(pk=merchant.pk).update(kind=Wallet.Kind.CUSTOMER, balance=D("0.00"))
    assert _broken()[merchant.pk][-1] == "below zero other than by an earning reversal"
