"""The wallet services: paying an order from the balance, withdrawals, deposits applied
once, staff's locks and adjustments. Each refusal changes nothing."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from core.exceptions import NotPermitted
from orders.exceptions import IdempotencyConflict, InvalidTransition
from orders.models import Order, OrderEmail
from orders.selectors import stock_discrepancies
from orders.tests.factories import make_due, make_order
from shop.models import Inventory
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory
from wallets import ledger, services
from wallets.exceptions import InsufficientFunds, InvalidAmount, InvalidDeposit, WalletLocked
from wallets.models import Deposit, LedgerEntry, Wallet, Withdrawal
from wallets.selectors import wallet_discrepancies
from wallets.tests.helpers import balance, fund, ledger_of, treasurer

pytestmark = pytest.mark.django_db
D = Decimal
S = Order.Status


def _actions(entity_type, entity_id):
    return list(
        AuditEvent.objects.filter(entity_type=entity_type, entity_id=str(entity_id))
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def product():
    return ProductFactory(stock=10, price=D("12.50"))


def _order(buyer, product, status=S.PAYMENT_PENDING, quantity=2):
    return make_order(user=buyer, lines=[(product.pk, quantity)], status=status)


# --- paying an order ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.CREATED, S.PAYMENT_PENDING])
def test_paying_from_the_wallet_debits_the_total_and_commits_the_stock(buyer, product, status):
    fund(buyer, "30.00")
    order = _order(buyer, product, status)

    paid = services.pay_order(order=order, user=buyer)

    assert paid.status == S.PAID
    assert Order.objects.get(pk=order.pk).status == S.PAID
    assert balance(buyer) == D("5.00")
    assert ledger_of(buyer)[-1] == ("payment", D("-25.00"), D("30.00"), D("5.00"))
    assert LedgerEntry.objects.get(type="payment").reference == str(order.pk)
    inv = Inventory.objects.get(product=product)
    assert (inv.available, inv.reserved) == (8, 0)
    assert "order.mark_paid" in _actions("order", order.pk)
    assert _actions("wallet", Wallet.objects.get(user=buyer).pk)[-1] == "wallet.payment"
    assert OrderEmail.objects.filter(order=order, kind="paid").count() == 1
    assert stock_discrepancies() == []
    assert wallet_discrepancies() == []


@pytest.mark.parametrize(
    ("funds", "locked", "error"),
    [
        (None, False, InsufficientFunds),  # no wallet yet
        ("24.99", False, InsufficientFunds),
        ("100.00", True, WalletLocked),
    ],
)
def test_a_refused_wallet_payment_changes_nothing(buyer, product, funds, locked, error):
    if funds:
        wallet = fund(buyer, funds)
        if locked:
            services.set_wallet_lock(wallet=wallet, locked=True, actor=treasurer())
    order = _order(buyer, product)
    entries_before = LedgerEntry.objects.count()

    with pytest.raises(error) as raised:
        services.pay_order(order=order, user=buyer)

    assert raised.value.code == error.code
    assert Order.objects.get(pk=order.pk).status == S.PAYMENT_PENDING
    assert LedgerEntry.objects.count() == entries_before
    inv = Inventory.objects.get(product=product)
    assert (inv.available, inv.reserved) == (8, 2)
    assert "order.mark_paid" not in _actions("order", order.pk)


@pytest.mark.parametrize("status", [S.PAID, S.CANCELLED, S.EXPIRED, S.REFUNDED])
def test_only_an_order_awaiting_payment_can_be_paid_from_the_wallet(buyer, product, status):
    fund(buyer, "100.00")
    order = _order(buyer, product, status)
    with pytest.raises(InvalidTransition):
        services.pay_order(order=order, user=buyer)
    assert balance(buyer) == D("100.00")


def test_an_order_past_its_reservation_cannot_be_paid_from_the_wallet(buyer, product):
    fund(buyer, "100.00")
    order = _order(buyer, product)
    make_due(order)
    with pytest.raises(InvalidTransition):
        services.pay_order(order=order, user=buyer)
    assert balance(buyer) == D("100.00")


def test_nobody_pays_another_customers_order_from_their_wallet(buyer, product):
    other = UserFactory()
    fund(other, "100.00")
    order = _order(buyer, product)
    with pytest.raises(NotPermitted):
        services.pay_order(order=order, user=other)
    assert balance(other) == D("100.00")
    assert Order.objects.get(pk=order.pk).status == S.PAYMENT_PENDING


# --- refunds to the wallet --------------------------------------------------------------------


def test_a_refund_to_the_wallet_credits_the_wallet_that_paid(buyer, product):
    fund(buyer, "25.00")
    order = services.pay_order(order=_order(buyer, product), user=buyer)
    entry = services.refund_order_to_wallet(order=order, amount=D("10.00"), actor=treasurer())
    assert (entry.type, entry.amount, entry.reference) == ("refund", D("10.00"), str(order.pk))
    assert balance(buyer) == D("10.00")


# --- withdrawals -------------------------------------------------------------------------------


def test_a_withdrawal_takes_the_amount_at_once(buyer):
    fund(buyer, "40.00")
    withdrawal = services.request_withdrawal(user=buyer, amount=D("15.00"))
    assert (withdrawal.status, withdrawal.amount) == (Withdrawal.Status.PENDING, D("15.00"))
    assert balance(buyer) == D("25.00")
    assert ledger_of(buyer)[-1] == ("withdrawal", D("-15.00"), D("40.00"), D("25.00"))
    assert LedgerEntry.objects.get(type="withdrawal").reference == str(withdrawal.pk)


@pytest.mark.parametrize(
    ("funds", "amount", "error"),
    [
        (None, "1.00", InsufficientFunds),
        ("10.00", "10.01", InsufficientFunds),
        ("10.00", "0.00", InvalidAmount),
        ("10.00", "1.001", InvalidAmount),
    ],
)
def test_a_refused_withdrawal_changes_nothing(buyer, funds, amount, error):
    if funds:
        fund(buyer, funds)
    with pytest.raises(error):
        services.request_withdrawal(user=buyer, amount=D(amount))
    assert Withdrawal.objects.count() == 0
    assert LedgerEntry.objects.filter(type="withdrawal").count() == 0


def test_a_locked_wallet_cannot_withdraw_until_unlocked(buyer):
    wallet = fund(buyer, "10.00")
    staff = treasurer()
    services.set_wallet_lock(wallet=wallet, locked=True, actor=staff, reason="chargeback")
    with pytest.raises(WalletLocked):
        services.request_withdrawal(user=buyer, amount=D("5.00"))
    services.set_wallet_lock(wallet=wallet, locked=False, actor=staff)
    services.request_withdrawal(user=buyer, amount=D("5.00"))
    assert balance(buyer) == D("5.00")
    assert _actions("wallet", wallet.pk) == [
        "wallet.adjustment",
        "wallet.locked",
        "wallet.unlocked",
        "wallet.withdrawal",
    ]
    locked = AuditEvent.objects.get(action="wallet.locked")
    assert (locked.actor_id, locked.after) == (
        staff.pk,
        {"is_locked": True, "reason": "chargeback"},
    )


def test_approving_pays_out_and_rejecting_gives_the_amount_back(buyer):
    fund(buyer, "50.00")
    staff = treasurer()
    paid = services.request_withdrawal(user=buyer, amount=D("20.00"))
    rejected = services.request_withdrawal(user=buyer, amount=D("30.00"))
    assert balance(buyer) == D("0.00")

    paid = services.approve_withdrawal(withdrawal=paid, actor=staff)
    rejected = services.reject_withdrawal(withdrawal=rejected, actor=staff, reason="no IBAN")

    assert (paid.status, paid.decided_by, paid.decided_at is not None) == ("paid", staff, True)
    assert (rejected.status, rejected.note) == ("rejected", "no IBAN")
    assert balance(buyer) == D("30.00")
    assert ledger_of(buyer)[-1] == ("withdrawal_reversal", D("30.00"), D("0.00"), D("30.00"))
    assert _actions("withdrawal", paid.pk) == ["withdrawal.paid"]
    assert _actions("withdrawal", rejected.pk) == ["withdrawal.rejected"]
    for decided in (paid, rejected):
        for decide in (services.approve_withdrawal, services.reject_withdrawal):
            with pytest.raises(InvalidTransition):
                decide(withdrawal=decided, actor=staff)
    assert balance(buyer) == D("30.00")
    assert wallet_discrepancies() == []


def test_a_withdrawal_of_a_locked_wallet_is_not_paid_out_but_may_be_rejected(buyer):
    wallet = fund(buyer, "10.00")
    staff = treasurer()
    withdrawal = services.request_withdrawal(user=buyer, amount=D("10.00"))
    services.set_wallet_lock(wallet=wallet, locked=True, actor=staff)
    with pytest.raises(WalletLocked):
        services.approve_withdrawal(withdrawal=withdrawal, actor=staff)
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "pending"
    services.reject_withdrawal(withdrawal=withdrawal, actor=staff)
    assert balance(buyer) == D("10.00")


def test_deciding_withdrawals_and_staff_actions_need_their_permission(buyer):
    wallet = fund(buyer, "10.00")
    withdrawal = services.request_withdrawal(user=buyer, amount=D("1.00"))
    plain_staff = StaffFactory()
    for attempt in (
        lambda: services.approve_withdrawal(withdrawal=withdrawal, actor=plain_staff),
        lambda: services.reject_withdrawal(withdrawal=withdrawal, actor=plain_staff),
        lambda: services.set_wallet_lock(wallet=wallet, locked=True, actor=plain_staff),
        lambda: services.adjust_balance(wallet=wallet, amount=D("1"), reason="x", actor=buyer),
    ):
        with pytest.raises(NotPermitted):
            attempt()
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "pending"
    assert (balance(buyer), Wallet.objects.get(pk=wallet.pk).is_locked) == (D("9.00"), False)


# --- adjustments -----------------------------------------------------------------------------


def test_an_adjustment_needs_a_reason_and_never_takes_a_wallet_below_zero(buyer):
    staff = treasurer()
    wallet = ledger.wallet_for(user=buyer)
    with pytest.raises(InvalidAmount):
        services.adjust_balance(wallet=wallet, amount=D("5.00"), reason="  ", actor=staff)
    entry = services.adjust_balance(wallet=wallet, amount=D("5.00"), reason="goodwill", actor=staff)
    with pytest.raises(InsufficientFunds):
        services.adjust_balance(wallet=wallet, amount=D("-5.01"), reason="fix", actor=staff)
    assert (entry.type, entry.note, entry.created_by) == ("adjustment", "goodwill", staff)
    event = AuditEvent.objects.get(action="wallet.adjustment")
    assert (event.actor_id, event.after["note"], event.after["amount"]) == (
        staff.pk,
        "goodwill",
        "5.00",
    )
    assert balance(buyer) == D("5.00")


# --- deposits --------------------------------------------------------------------------------


def _apply(deposit, status, *, intent="pi_dep_1", received=None, currency="usd"):
    return services.apply_deposit_payment(
        deposit_id=deposit.pk,
        payment_intent_id=intent,
        payment_status=status,
        client_secret=f"{intent}_secret",
        amount_received=deposit.amount if received is None else D(received),
        currency=currency,
    )


def test_a_deposit_is_credited_once_when_its_payment_succeeds(buyer):
    deposit = services.open_deposit(user=buyer, amount=D("25.00"))
    assert (deposit.status, deposit.currency, deposit.payment_intent_id) == ("pending", "usd", None)

    deposit = _apply(deposit, "requires_payment_method")
    assert (deposit.status, deposit.payment_status) == ("pending", "requires_payment_method")
    assert deposit.client_secret == "pi_dep_1_secret"
    assert balance(buyer) == D("0.00")

    for _ in range(3):
        deposit = _apply(deposit, "succeeded")
    _apply(deposit, "requires_payment_method")  # an older snapshot, delivered late
    deposit = Deposit.objects.get(pk=deposit.pk)
    assert (deposit.status, deposit.payment_status) == ("succeeded", "succeeded")
    assert deposit.succeeded_at is not None
    assert ledger_of(buyer) == [("deposit", D("25.00"), D("0.00"), D("25.00"))]
    assert LedgerEntry.objects.get().reference == str(deposit.pk)


def test_a_cancelled_deposit_credits_nothing_and_stays_cancelled(buyer):
    deposit = services.open_deposit(user=buyer, amount=D("25.00"))
    _apply(deposit, "canceled")
    _apply(deposit, "succeeded")
    assert Deposit.objects.get(pk=deposit.pk).status == "canceled"
    assert balance(buyer) == D("0.00")
    assert _actions("deposit", deposit.pk) == ["deposit.canceled"]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"received": "24.99"}, "received 24.99 USD"),
        ({"currency": "eur"}, "received 25.00 EUR"),
    ],
)
def test_a_success_for_another_amount_is_flagged_not_credited(buyer, kwargs, reason):
    deposit = services.open_deposit(user=buyer, amount=D("25.00"))
    _apply(deposit, "succeeded", **kwargs)
    assert Deposit.objects.get(pk=deposit.pk).status == "pending"
    assert balance(buyer) == D("0.00")
    event = AuditEvent.objects.get(action="deposit.flagged")
    assert reason in event.after["reason"]


def test_a_second_payment_intent_naming_a_deposit_is_flagged_not_credited(buyer):
    deposit = services.open_deposit(user=buyer, amount=D("25.00"))
    _apply(deposit, "requires_payment_method", intent="pi_first")
    _apply(deposit, "succeeded", intent="pi_second")
    deposit = Deposit.objects.get(pk=deposit.pk)
    assert (deposit.status, deposit.payment_intent_id) == ("pending", "pi_first")
    assert balance(buyer) == D("0.00")
    assert "pi_second" in AuditEvent.objects.get(action="deposit.flagged").after["reason"]


def test_opening_a_deposit_is_idempotent_per_key(buyer):
    first = services.open_deposit(user=buyer, amount=D("10.00"), idempotency_key="k1")
    again = services.open_deposit(user=buyer, amount=D("10.00"), idempotency_key="k1")
    other_user = services.open_deposit(user=UserFactory(), amount=D("10.00"), idempotency_key="k1")
    assert again.pk == first.pk and again.replayed is True
    assert not getattr(first, "replayed", False)
    assert other_user.pk != first.pk
    with pytest.raises(IdempotencyConflict):
        services.open_deposit(user=buyer, amount=D("11.00"), idempotency_key="k1")
    assert Deposit.objects.filter(wallet__user=buyer).count() == 1


@pytest.mark.parametrize(
    ("amount", "key", "error"),
    [
        ("0.99", None, InvalidAmount),
        ("10000.01", None, InvalidAmount),
        ("5.001", None, InvalidAmount),
        ("5.00", "", InvalidDeposit),
        ("5.00", "k" * 256, InvalidDeposit),
    ],
)
def test_deposit_limits(buyer, amount, key, error):
    with pytest.raises(error):
        services.open_deposit(user=buyer, amount=D(amount), idempotency_key=key)
    assert Deposit.objects.count() == 0
    for edge in ("1.00", "10000.00"):
        assert services.open_deposit(user=buyer, amount=D(edge)).amount == D(edge)
