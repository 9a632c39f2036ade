"""The ledger service and the database's own guards: every entry chained to the previous
one, balance_after = balance_before + amount, customer balances never below zero, the
ledger append-only."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from audit.models import AuditEvent
from shop.tests.factories import UserFactory
from wallets import ledger
from wallets.exceptions import InsufficientFunds, InvalidAmount
from wallets.models import EntryType, LedgerEntry, Wallet
from wallets.selectors import wallet_discrepancies
from wallets.tests.helpers import fund, ledger_of

pytestmark = pytest.mark.django_db
D = Decimal
T = EntryType


def _post(wallet, type, amount, reference=""):
    with transaction.atomic():
        locked = ledger.lock(wallet_ids=[wallet.pk])[wallet.pk]
        return ledger.post(wallet=locked, type=type, amount=D(amount), reference=reference)


def _execute(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def wallet():
    return ledger.wallet_for(user=UserFactory())


def test_a_wallet_is_created_once_on_first_use(settings):
    user = UserFactory()
    first = ledger.wallet_for(user=user)
    assert ledger.wallet_for(user=user).pk == first.pk
    assert (first.balance, first.currency, first.kind, first.is_locked) == (
        D("0.00"),
        settings.SHOP_CURRENCY,
        Wallet.Kind.CUSTOMER,
        False,
    )
    assert Wallet.objects.filter(user=user).count() == 1


def test_entries_chain_and_the_balance_follows(wallet):
    _post(wallet, T.DEPOSIT, "50.00", "d1")
    _post(wallet, T.PAYMENT, "-19.99", "o1")
    _post(wallet, T.REFUND, "5.00", "o1")
    _post(wallet, T.ADJUSTMENT, "-0.01")

    assert ledger_of(wallet.user) == [
        ("deposit", D("50.00"), D("0.00"), D("50.00")),
        ("payment", D("-19.99"), D("50.00"), D("30.01")),
        ("refund", D("5.00"), D("30.01"), D("35.01")),
        ("adjustment", D("-0.01"), D("35.01"), D("35.00")),
    ]
    wallet = Wallet.objects.get(pk=wallet.pk)
    assert (wallet.balance, wallet.entry_count) == (D("35.00"), 4)
    assert list(wallet.entries.order_by("sequence").values_list("sequence", flat=True)) == [
        1,
        2,
        3,
        4,
    ]
    assert wallet_discrepancies() == []


def test_every_entry_is_audited_with_the_balance_before_and_after(wallet):
    entry = _post(wallet, T.DEPOSIT, "12.50", "dep-1")
    event = AuditEvent.objects.get(entity_type="wallet", entity_id=str(wallet.pk))
    assert event.action == "wallet.deposit"
    assert event.before == {"balance": "0.00"}
    assert event.after == {
        "balance": "12.50",
        "entry": entry.pk,
        "sequence": 1,
        "type": "deposit",
        "amount": "12.50",
        "reference": "dep-1",
    }


def test_a_debit_beyond_the_balance_is_refused_and_writes_nothing(wallet):
    _post(wallet, T.DEPOSIT, "10.00", "d1")
    with pytest.raises(InsufficientFunds):
        _post(wallet, T.WITHDRAWAL, "-10.01", "w1")
    assert LedgerEntry.objects.filter(wallet=wallet).count() == 1
    assert Wallet.objects.get(pk=wallet.pk).balance == D("10.00")
    _post(wallet, T.WITHDRAWAL, "-10.00", "w2")
    assert Wallet.objects.get(pk=wallet.pk).balance == D("0.00")


@pytest.mark.parametrize("amount", ["0", "0.001", "-1.005"])
def test_zero_or_sub_cent_amounts_are_refused(wallet, amount):
    fund(wallet.user, "5.00")
    with pytest.raises(InvalidAmount):
        _post(wallet, T.ADJUSTMENT, amount)
    assert LedgerEntry.objects.filter(wallet=wallet).count() == 1


def test_only_a_merchant_wallet_goes_below_zero_and_only_by_an_earning_reversal(wallet):
    _post(wallet, T.EARNING, "9.00", "o1")
    with pytest.raises(InsufficientFunds):
        _post(wallet, T.EARNING_REVERSAL, "-9.01", "o2")  # a customer wallet: never

    Wallet.objects.filter(pk=wallet.pk).update(kind=Wallet.Kind.MERCHANT)
    _post(wallet, T.EARNING_REVERSAL, "-12.00", "o1")
    assert Wallet.objects.get(pk=wallet.pk).balance == D("-3.00")
    for type, amount in [(T.ADJUSTMENT, "-1.00"), (T.WITHDRAWAL, "-1.00"), (T.PAYMENT, "-1.00")]:
        with pytest.raises(InsufficientFunds):
            _post(wallet, type, amount, "x")
    _post(wallet, T.DEPOSIT, "5.00", "d1")  # credits bring it back
    assert Wallet.objects.get(pk=wallet.pk).balance == D("2.00")
    assert wallet_discrepancies() == []


# --- what the database itself refuses -----------------------------------------------------


def test_ledger_update_and_delete_are_rejected(wallet):
    entry = _post(wallet, T.DEPOSIT, "10.00", "d1")
    with pytest.raises(DatabaseError, match="append-only: UPDATE"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("1000.00"))
    with pytest.raises(DatabaseError, match="append-only: DELETE"), transaction.atomic():
        _execute("DELETE FROM wallets_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == D("10.00")


def test_ledger_truncate_is_rejected_unless_the_session_allows_it(wallet):
    _post(wallet, T.DEPOSIT, "10.00", "d1")
    _execute("SET CONSTRAINTS ALL IMMEDIATE")  # fire pending FK checks before TRUNCATE
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE"), transaction.atomic():
        _execute("SET LOCAL wallets.allow_truncate = 'off'")
        # With the table that points at it (merchant earnings), as a flush truncates them.
        _execute("TRUNCATE wallets_ledgerentry, wallets_earning")
    assert LedgerEntry.objects.count() == 1


def _insert(wallet, *, sequence, type, amount, before, after, reference=""):
    LedgerEntry.objects.create(
        wallet=wallet,
        sequence=sequence,
        type=type,
        amount=D(amount),
        balance_before=D(before),
        balance_after=D(after),
        reference=reference,
    )


@pytest.mark.parametrize(
    ("sequence", "before", "after", "message"),
    [
        (2, "5.00", "6.00", r"starts at 5\.00, the previous one ended at 10\.00"),
        (3, "10.00", "11.00", "has no ledger entry 2"),
    ],
)
def test_an_entry_that_does_not_continue_the_chain_is_rejected(
    wallet, sequence, before, after, message
):
    _post(wallet, T.DEPOSIT, "10.00", "d1")
    with pytest.raises(IntegrityError, match=message), transaction.atomic():
        _insert(
            wallet, sequence=sequence, type=T.DEPOSIT, amount="1.00", before=before, after=after
        )


def test_the_first_entry_must_start_at_zero(wallet):
    with pytest.raises(IntegrityError, match=r"starts at 3\.00"), transaction.atomic():
        _insert(wallet, sequence=1, type=T.DEPOSIT, amount="1.00", before="3.00", after="4.00")


def test_the_database_checks_each_entry(wallet):
    _post(wallet, T.DEPOSIT, "10.00", "d1")
    cases = [
        # balance_after != balance_before + amount
        {"type": T.DEPOSIT, "amount": "1.00", "before": "10.00", "after": "12.00"},
        # the sign does not match the type
        {"type": T.DEPOSIT, "amount": "-1.00", "before": "10.00", "after": "9.00"},
        {"type": T.PAYMENT, "amount": "1.00", "before": "10.00", "after": "11.00"},
        {"type": T.ADJUSTMENT, "amount": "0.00", "before": "10.00", "after": "10.00"},
        # a second credit of the same deposit
        {
            "type": T.DEPOSIT,
            "amount": "1.00",
            "before": "10.00",
            "after": "11.00",
            "reference": "d1",
        },
    ]
    for case in cases:
        with pytest.raises(IntegrityError), transaction.atomic():
            _insert(wallet, sequence=2, **case)
    with pytest.raises(IntegrityError), transaction.atomic():  # the sequence is unique
        _insert(wallet, sequence=1, type=T.DEPOSIT, amount="1.00", before="0.00", after="1.00")
    assert LedgerEntry.objects.filter(wallet=wallet).count() == 1


def test_a_customer_balance_below_zero_is_rejected_by_the_database(wallet):
    with pytest.raises(IntegrityError, match="wallet_customer_balance_gte_0"), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=D("-0.01"))
    Wallet.objects.filter(pk=wallet.pk).update(kind=Wallet.Kind.MERCHANT, balance=D("-0.01"))
    assert Wallet.objects.get(pk=wallet.pk).balance == D("-0.01")
