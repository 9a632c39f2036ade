"""Concurrency claims of wallets, proven with real threads and PostgreSQL transactions:
a wallet never pays more than it holds, however payments and withdrawals race."""

from collections import Counter
from decimal import Decimal

import pytest

from orders.exceptions import InvalidTransition
from orders.models import Order
from orders.selectors import stock_discrepancies
from orders.tests.factories import make_order
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import ProductFactory, UserFactory
from wallets import ledger, services
from wallets.models import Deposit, LedgerEntry, Wallet, Withdrawal
from wallets.selectors import wallet_discrepancies
from wallets.tests.helpers import balance, fund, treasurer

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def _kinds(outcomes):
    """Counter of "ok" and the class names of the errors."""
    return Counter("ok" if kind == "ok" else type(value).__name__ for kind, value in outcomes)


def _orders(buyer, n, price="10.00"):
    product = ProductFactory(stock=n, price=D(price))
    return [
        make_order(user=buyer, lines=[(product.pk, 1)], status=Order.Status.PAYMENT_PENDING)
        for _ in range(n)
    ]


def test_twenty_wallet_payments_of_ten_from_fifty_pay_exactly_five():
    buyer = UserFactory()
    fund(buyer, "50.00")
    orders = _orders(buyer, 20)

    outcomes = run_concurrently(
        *[lambda o=o: services.pay_order(order=o, user=buyer) for o in orders]
    )

    assert _kinds(outcomes) == {"ok": 5, "InsufficientFunds": 15}
    assert all(e.code == "insufficient_funds" for k, e in outcomes if k == "error")
    assert balance(buyer) == D("0.00")
    statuses = Counter(Order.objects.filter(user=buyer).values_list("status", flat=True))
    assert statuses == {"paid": 5, "payment_pending": 15}
    payments = LedgerEntry.objects.filter(type="payment")
    assert payments.count() == 5
    paid = set(Order.objects.filter(status="paid").values_list("pk", flat=True))
    assert {entry.reference for entry in payments} == {str(pk) for pk in paid}
    assert stock_discrepancies() == []
    assert wallet_discrepancies() == []


def test_withdrawals_racing_payments_never_overdraw():
    buyer = UserFactory()
    fund(buyer, "50.00")
    orders = _orders(buyer, 10)
    calls = [lambda o=o: services.pay_order(order=o, user=buyer) for o in orders]
    calls += [lambda: services.request_withdrawal(user=buyer, amount=D("10.00"))] * 10

    outcomes = run_concurrently(*calls)

    assert _kinds(outcomes) == {"ok": 5, "InsufficientFunds": 15}
    paid = Order.objects.filter(status="paid").count()
    assert paid + Withdrawal.objects.count() == 5
    assert balance(buyer) == D("0.00")
    wallet = Wallet.objects.get(user=buyer)
    assert wallet.entry_count == 6  # the funds, then five debits
    assert wallet_discrepancies() == []
    assert stock_discrepancies() == []


def test_one_withdrawal_decided_by_racing_staff_is_decided_once():
    buyer = UserFactory()
    fund(buyer, "30.00")
    withdrawal = services.request_withdrawal(user=buyer, amount=D("30.00"))
    staff = [treasurer() for _ in range(6)]
    calls = [
        lambda s=s, i=i: (services.reject_withdrawal if i % 2 else services.approve_withdrawal)(
            withdrawal=withdrawal, actor=s
        )
        for i, s in enumerate(staff)
    ]

    outcomes = run_concurrently(*calls)

    assert _kinds(outcomes) == {"ok": 1, "InvalidTransition": 5}
    assert all(isinstance(e, InvalidTransition) for k, e in outcomes if k == "error")
    decided = Withdrawal.objects.get(pk=withdrawal.pk)
    reversals = LedgerEntry.objects.filter(type="withdrawal_reversal").count()
    assert (decided.status, reversals, balance(buyer)) in [
        ("paid", 0, D("0.00")),
        ("rejected", 1, D("30.00")),
    ]
    assert wallet_discrepancies() == []


def test_a_deposit_success_applied_eight_times_at_once_is_credited_once():
    buyer = UserFactory()
    deposit = services.open_deposit(user=buyer, amount=D("42.00"))

    def apply():
        return services.apply_deposit_payment(
            deposit_id=deposit.pk,
            payment_intent_id="pi_race",
            payment_status="succeeded",
            amount_received=D("42.00"),
            currency="usd",
        ).status

    outcomes = run_concurrently(*[apply] * 8)

    assert outcomes == [("ok", Deposit.Status.SUCCEEDED)] * 8
    assert balance(buyer) == D("42.00")
    assert LedgerEntry.objects.filter(type="deposit").count() == 1
    assert wallet_discrepancies() == []


def test_a_wallet_first_used_by_many_requests_at_once_is_made_once():
    user = UserFactory()
    outcomes = run_concurrently(*[lambda: ledger.wallet_for(user=user).pk] * 8)
    assert {value for _, value in outcomes} == {Wallet.objects.get(user=user).pk}
    assert Wallet.objects.filter(user=user).count() == 1
