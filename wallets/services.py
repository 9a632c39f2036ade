"""Wallets: paying orders from the balance, refunds to it, deposits, withdrawals, and
staff's locks and adjustments. Every balance change goes through `wallets.ledger`
(the wallet row locked, an entry appended, an audit event written) in the service's
transaction.

Lock order, as everywhere (docs/architecture.md): the order row, then wallet rows by
id, then inventory rows by product id. A deposit's or withdrawal's own row is locked
before its wallet's. Nothing here calls Stripe: `payments` makes and follows the
PaymentIntents of deposits and hands their state to `apply_deposit_payment`.
"""

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import Action, Entity
from audit.services import record
from core.exceptions import NotPermitted
from core.money import format_price, round_money
from orders import services as order_services
from orders.exceptions import IdempotencyConflict, InvalidTransition
from orders.models import Order
from wallets import earnings, ledger
from wallets.exceptions import InsufficientFunds, InvalidAmount, InvalidDeposit, WalletLocked
from wallets.models import Deposit, EntryType, LedgerEntry, Wallet, Withdrawal
from wallets.selectors import earning_discrepancies, wallet_discrepancies

logger = logging.getLogger(__name__)

# PaymentIntent statuses (Stripe's words) that end a deposit.
INTENT_SUCCEEDED = "succeeded"
INTENT_CANCELED = "canceled"


def _money(amount, *, minimum: Decimal, maximum: Decimal | None = None) -> Decimal:
    amount = Decimal(amount)
    if amount != round_money(amount) or amount < minimum or (maximum and amount > maximum):
        if maximum:
            message = _("The amount must be between %(minimum)s and %(maximum)s, in whole cents.")
        else:
            message = _("The amount must be at least %(minimum)s, in whole cents.")
        raise InvalidAmount(message % {"minimum": minimum, "maximum": maximum})
    return amount


def _ensure_staff(actor, permission: str) -> None:
    if not (actor.is_staff and actor.has_perm(permission)):
        raise NotPermitted()


# --- orders ------------------------------------------------------------------------------


def pay_order(*, order: Order, user) -> Order:
    """Pay an unpaid order from its customer's wallet: in one transaction the wallet is
    debited the order's total (a `payment` entry referencing the order) and the order
    becomes paid, committing its stock (orders.services.mark_paid).

    Locks the order row, then the customer's wallet row together with the wallets of
    the merchants it pays (their earnings are credited by mark_paid's OrderPaying, in
    this transaction), by id, then (mark_paid) the inventory rows.
    An open PaymentIntent of the order is cancelled after the commit by payments,
    which reacts to OrderPaid; a card payment that still succeeds is refunded there.
    Raises InvalidTransition (not awaiting payment, or its reservation ran out),
    WalletLocked and InsufficientFunds; nothing changes then.
    """
    with transaction.atomic():
        order = order_services.lock_order(order_id=order.pk)
        if order.user_id != user.pk:
            raise NotPermitted(_("Only the customer who placed the order can pay for it."))
        if order.status not in Order.HOLDING_STOCK or order.expires_at <= timezone.now():
            raise InvalidTransition(
                _("Order %(number)s is not awaiting payment.") % {"number": order.short_id}
            )
        if order.total <= 0:
            raise InvalidTransition(
                _("Order %(number)s has nothing to pay.") % {"number": order.short_id}
            )
        wallet = _lock_with_payees(order=order, wallet_id=_wallet_id_of(user))
        if wallet is not None and wallet.is_locked:
            raise WalletLocked()
        if wallet is not None and wallet.currency != order.currency:
            raise InvalidTransition(
                _("Your wallet holds %(wallet)s, not %(order)s.")
                % {"wallet": wallet.currency.upper(), "order": order.currency.upper()}
            )
        if wallet is None or wallet.balance < order.total:
            balance = wallet.balance if wallet is not None else Decimal("0.00")
            raise InsufficientFunds(
                _("Your balance of %(balance)s does not cover the order total of %(total)s.")
                % {
                    "balance": format_price(balance, order.currency),
                    "total": format_price(order.total, order.currency),
                }
            )
        ledger.post(
            wallet=wallet,
            type=EntryType.PAYMENT,
            amount=-order.total,
            reference=str(order.pk),
            actor=user,
        )
        return order_services.mark_paid(order=order)


def _wallet_id_of(user):
    return Wallet.objects.filter(user=user).values_list("pk", flat=True).first()


def _lock_with_payees(*, order: Order, wallet_id) -> Wallet | None:
    """Lock the wallet `wallet_id` (None: no wallet) together with those of the merchants
    the order pays (wallets.earnings credits or reverses them later in the transaction),
    all by id in one statement: the global lock order. Returns the wallet `wallet_id`."""
    if wallet_id is None:
        return None
    payees = earnings.payee_wallet_ids(order_id=order.pk)
    return ledger.lock(wallet_ids=[wallet_id, *payees])[wallet_id]


def refund_order_to_wallet(*, order: Order, amount: Decimal, actor=None) -> LedgerEntry:
    """Give `amount` of an order paid from a wallet back to that wallet (a `refund`
    entry referencing the order). For payments.services.refund_payment, which holds
    the order's row lock and has checked the amount against what is left to refund.
    """
    payment = LedgerEntry.objects.get(type=EntryType.PAYMENT, reference=str(order.pk))
    with transaction.atomic():
        wallet = _lock_with_payees(order=order, wallet_id=payment.wallet_id)
        return ledger.post(
            wallet=wallet,
            type=EntryType.REFUND,
            amount=amount,
            reference=str(order.pk),
            actor=actor,
        )


# --- deposits ----------------------------------------------------------------------------


def open_deposit(*, user, amount: Decimal, idempotency_key: str | None = None) -> Deposit:
    """Record a deposit of `amount` into the user's wallet (created on first use),
    pending until its PaymentIntent succeeds. payments.services.start_deposit makes
    the PaymentIntent.

    Idempotent per key: the same key and amount give back the first deposit (marked
    `replayed`); the same key with another amount raises IdempotencyConflict. Raises
    InvalidAmount outside Deposit.MIN_AMOUNT..MAX_AMOUNT, InvalidDeposit for a key
    that is not 1 to 255 characters.
    """
    amount = _money(amount, minimum=Deposit.MIN_AMOUNT, maximum=Deposit.MAX_AMOUNT)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
        raise InvalidDeposit("The idempotency key must be 1 to 255 characters.")
    wallet = ledger.wallet_for(user=user)
    if idempotency_key is not None:
        existing = Deposit.objects.filter(wallet=wallet, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replayed(existing, amount)
    try:
        with transaction.atomic():
            return Deposit.objects.create(
                wallet=wallet,
                amount=amount,
                currency=wallet.currency,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # A concurrent request with the same key made it first.
        existing = Deposit.objects.get(wallet=wallet, idempotency_key=idempotency_key)
        return _replayed(existing, amount)


def _replayed(deposit: Deposit, amount: Decimal) -> Deposit:
    if deposit.amount != amount:
        raise IdempotencyConflict()
    deposit.replayed = True
    return deposit


def apply_deposit_payment(
    *,
    deposit_id,
    payment_intent_id: str,
    payment_status: str,
    client_secret: str = "",
    amount_received: Decimal = Decimal("0.00"),
    currency: str = "",
) -> Deposit:
    """Bring a deposit in line with its PaymentIntent as Stripe reports it (payments
    calls this for webhooks, reconciliation and right after creating it).

    Under the deposit's row lock: when the PaymentIntent succeeded, the wallet is
    credited the deposit (a `deposit` entry) and the deposit `succeeded`, exactly once
    however many times and from wherever the success arrives; cancelled, it becomes
    `canceled`. A succeeded or cancelled deposit never changes again. A second
    PaymentIntent naming the deposit, or a success for another amount or currency, is
    not credited: it is logged and audited as `deposit.flagged` for staff.
    """
    with transaction.atomic():
        deposit = Deposit.objects.select_for_update().get(pk=deposit_id)
        if deposit.status != Deposit.Status.PENDING:
            return deposit
        if deposit.payment_intent_id and deposit.payment_intent_id != payment_intent_id:
            _flag_deposit(deposit, f"A second PaymentIntent {payment_intent_id} names it.")
            return deposit
        deposit.payment_intent_id = payment_intent_id
        deposit.client_secret = deposit.client_secret or client_secret
        deposit.payment_status = payment_status
        if payment_status == INTENT_SUCCEEDED:
            if amount_received != deposit.amount or currency != deposit.currency:
                _flag_deposit(
                    deposit,
                    f"PaymentIntent {payment_intent_id} received {amount_received} "
                    f"{currency.upper()}.",
                )
            else:
                wallet = ledger.lock(wallet_ids=[deposit.wallet_id])[deposit.wallet_id]
                ledger.post(
                    wallet=wallet,
                    type=EntryType.DEPOSIT,
                    amount=deposit.amount,
                    reference=str(deposit.pk),
                )
                deposit.status = Deposit.Status.SUCCEEDED
                deposit.succeeded_at = timezone.now()
        elif payment_status == INTENT_CANCELED:
            deposit.status = Deposit.Status.CANCELED
            record(
                action=Action.DEPOSIT_CANCELED,
                entity_type=Entity.DEPOSIT,
                entity_id=deposit.pk,
                after={"payment_intent": payment_intent_id},
            )
        deposit.save()
    return deposit


def _flag_deposit(deposit: Deposit, reason: str) -> None:
    logger.error("Deposit %s not credited: %s", deposit.pk, reason)
    record(
        action=Action.DEPOSIT_FLAGGED,
        entity_type=Entity.DEPOSIT,
        entity_id=deposit.pk,
        after={"reason": reason, "amount": str(deposit.amount)},
    )


# --- withdrawals -------------------------------------------------------------------------


def request_withdrawal(*, user, amount: Decimal) -> Withdrawal:
    """The customer asks for `amount` to be paid out: it leaves the balance at once (a
    `withdrawal` entry) and waits for staff as a pending withdrawal.

    Raises InvalidAmount, WalletLocked and InsufficientFunds (a merchant's wallet below
    zero cannot withdraw at all).
    """
    amount = _money(amount, minimum=Withdrawal.MIN_AMOUNT)
    with transaction.atomic():
        wallet = ledger.lock_of(user=user)
        if wallet is not None and wallet.is_locked:
            raise WalletLocked()
        if wallet is None or wallet.balance < amount:
            balance = wallet.balance if wallet is not None else Decimal("0.00")
            raise InsufficientFunds(
                _("Your balance of %(balance)s does not cover %(amount)s.")
                % {"balance": format_price(balance), "amount": format_price(amount)}
            )
        withdrawal = Withdrawal.objects.create(
            wallet=wallet, amount=amount, currency=wallet.currency
        )
        ledger.post(
            wallet=wallet,
            type=EntryType.WITHDRAWAL,
            amount=-amount,
            reference=str(withdrawal.pk),
            actor=user,
        )
    return withdrawal


def approve_withdrawal(*, withdrawal: Withdrawal, actor) -> Withdrawal:
    """Staff paid the withdrawal out (by bank transfer; the shop makes no payout
    itself). Needs `wallets.change_withdrawal`. Raises InvalidTransition unless
    pending, WalletLocked while the wallet is locked."""
    _ensure_staff(actor, "wallets.change_withdrawal")
    with transaction.atomic():
        withdrawal, wallet = _lock_pending(withdrawal)
        if wallet.is_locked:
            raise WalletLocked("The wallet is locked: unlock it before paying out.")
        return _decide(withdrawal, Withdrawal.Status.PAID, Action.WITHDRAWAL_PAID, actor)


def reject_withdrawal(*, withdrawal: Withdrawal, actor, reason: str = "") -> Withdrawal:
    """Staff reject the withdrawal: its amount comes back to the balance (a
    `withdrawal_reversal` entry). Needs `wallets.change_withdrawal`. Raises
    InvalidTransition unless pending."""
    _ensure_staff(actor, "wallets.change_withdrawal")
    with transaction.atomic():
        withdrawal, wallet = _lock_pending(withdrawal)
        ledger.post(
            wallet=wallet,
            type=EntryType.WITHDRAWAL_REVERSAL,
            amount=withdrawal.amount,
            reference=str(withdrawal.pk),
            actor=actor,
        )
        withdrawal.note = reason
        return _decide(withdrawal, Withdrawal.Status.REJECTED, Action.WITHDRAWAL_REJECTED, actor)


def _lock_pending(withdrawal: Withdrawal) -> tuple[Withdrawal, Wallet]:
    withdrawal = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
    if withdrawal.status != Withdrawal.Status.PENDING:
        raise InvalidTransition(
            f"{withdrawal} is {withdrawal.get_status_display().lower()}; only pending "
            "withdrawals can be approved or rejected."
        )
    wallet = ledger.lock(wallet_ids=[withdrawal.wallet_id])[withdrawal.wallet_id]
    return withdrawal, wallet


def _decide(withdrawal: Withdrawal, status, action: Action, actor) -> Withdrawal:
    withdrawal.status = status
    withdrawal.decided_by = actor
    withdrawal.decided_at = timezone.now()
    withdrawal.save()
    record(
        action=action,
        entity_type=Entity.WITHDRAWAL,
        entity_id=withdrawal.pk,
        actor=actor,
        before={"status": Withdrawal.Status.PENDING},
        after={"status": status, "amount": str(withdrawal.amount), "note": withdrawal.note},
    )
    return withdrawal


# --- staff -------------------------------------------------------------------------------


def set_wallet_lock(*, wallet: Wallet, locked: bool, actor, reason: str = "") -> Wallet:
    """Staff lock a wallet (it can no longer pay or withdraw; money still comes in) or
    unlock it. Needs `wallets.change_wallet`; audited with the reason."""
    _ensure_staff(actor, "wallets.change_wallet")
    with transaction.atomic():
        wallet = ledger.lock(wallet_ids=[wallet.pk])[wallet.pk]
        if wallet.is_locked == locked:
            return wallet
        wallet.is_locked = locked
        wallet.locked_reason = reason if locked else ""
        wallet.save(update_fields=["is_locked", "locked_reason", "updated_at"])
        record(
            action=Action.WALLET_LOCKED if locked else Action.WALLET_UNLOCKED,
            entity_type=Entity.WALLET,
            entity_id=wallet.pk,
            actor=actor,
            before={"is_locked": not locked},
            after={"is_locked": locked, "reason": reason},
        )
    return wallet


def adjust_balance(*, wallet: Wallet, amount: Decimal, reason: str, actor) -> LedgerEntry:
    """Staff correct a wallet's balance by `amount` (either sign) with a reason: an
    `adjustment` entry. Needs `wallets.adjust_balance`. Raises InvalidAmount (zero, or
    no reason) and InsufficientFunds (no wallet goes below zero this way)."""
    _ensure_staff(actor, "wallets.adjust_balance")
    if not reason.strip():
        raise InvalidAmount("An adjustment needs a reason.")
    with transaction.atomic():
        wallet = ledger.lock(wallet_ids=[wallet.pk])[wallet.pk]
        return ledger.post(
            wallet=wallet,
            type=EntryType.ADJUSTMENT,
            amount=amount,
            note=reason.strip(),
            actor=actor,
        )


# --- ledger drift (nightly job and `manage.py check_wallet_drift`) -----------------------


def check_wallet_drift() -> list[dict]:
    """Report every wallet whose ledger breaks an invariant (wallets.selectors
    .wallet_discrepancies), and every order whose merchant earnings do not add up
    (`earning_discrepancies`, each with an `order_id`), to the log and as a
    `wallet.drift_detected` audit event; returns them. Nothing is corrected: the ledger
    is append-only, and which side is wrong is for a person to find out (a correction
    is a staff adjustment)."""
    problems = wallet_discrepancies()
    for problem in problems:
        logger.error(
            "Wallet %s ledger drift: %s (balance=%s sum=%s entries=%s)",
            problem["wallet_id"],
            "; ".join(problem["broken"]),
            problem["balance"],
            problem["sum_of_entries"],
            problem["entries"],
        )
        record(
            action=Action.WALLET_DRIFT_DETECTED,
            entity_type=Entity.WALLET,
            entity_id=problem["wallet_id"],
            after={
                **problem,
                "balance": str(problem["balance"]),
                "sum_of_entries": str(problem["sum_of_entries"]),
            },
        )
    unearned = earning_discrepancies()
    for problem in unearned:
        logger.error(
            "Order %s earnings drift: %s", problem["order_id"], "; ".join(problem["broken"])
        )
        record(
            action=Action.WALLET_DRIFT_DETECTED,
            entity_type=Entity.ORDER,
            entity_id=problem["order_id"],
            after=problem,
        )
    return problems + unearned
