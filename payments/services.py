"""Payments: PaymentIntents for orders and wallet deposits, applying Stripe's state to
them, refunds (to the card, or to the wallet that paid), reconciliation.

Every payment source settles the same way: order payments and wallet deposits are
PaymentIntents made here through `gateway`, followed by the same webhooks
(`apply_payment_intent`) and the same reconciliation. A PaymentIntent whose metadata
names a deposit goes to `wallets.services.apply_deposit_payment`, any other to its order.

Stripe calls never run inside a transaction that holds locks: the shop talks to Stripe
first and then records the answer under the order lock, or records its intent first
(a pending refund) and sends it after the commit. Lock order everywhere: order row,
then payment row or wallet rows, then inventory rows by product id.
"""

import logging
import uuid
from datetime import timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import Action, Entity
from audit.services import record
from core.exceptions import NotPermitted
from core.money import format_amount
from orders import emails
from orders import services as order_services
from orders.exceptions import InvalidTransition
from orders.models import Order
from payments import gateway
from payments.exceptions import InvalidRefund, PaymentInProgress, PaymentUnavailable
from payments.metrics import RECONCILIATION_FIXES, count_reconciliation_run
from payments.models import Payment, Refund, WebhookEvent
from payments.selectors import refundable_amount
from wallets import selectors as wallet_selectors
from wallets import services as wallet_services
from wallets.models import Deposit, LedgerEntry

logger = logging.getLogger(__name__)

_CLOSED_WITHOUT_PAYMENT = (Order.Status.EXPIRED, Order.Status.CANCELLED, Order.Status.FAILED)
_REFUNDABLE = (Order.Status.PAID, Order.Status.FULFILLED)
_FINAL = (Payment.Status.SUCCEEDED, Payment.Status.CANCELED)
# Cancellation reasons the shop sends when it cancels a PaymentIntent to close an order
# itself (customer or staff cancel; expiry). Stripe echoes them back in the
# payment_intent.canceled event, which then must not fail the order: the cancel or
# expiry that asked for it ends the order.
CANCELLATION_REASONS = {"cancel": "requested_by_customer", "expire": "abandoned"}
LATE_PAYMENT_NOTE = (
    "Your payment arrived after the reservation of your items had ended and they were "
    "no longer available, so we refunded it in full."
)
PAID_TWICE_NOTE = (
    "The order had already been paid from your wallet balance, so we refunded the card "
    "payment in full."
)


# PaymentIntents


def ensure_payment(*, order: Order) -> Payment:
    """Give an unpaid order its PaymentIntent, creating it at Stripe if need be.

    Idempotent: Stripe's idempotency key is derived from the order id, so retries (a
    double click, a client retrying after a timeout) get the same PaymentIntent.
    Raises InvalidTransition when the order no longer awaits payment and
    PaymentUnavailable when Stripe cannot be reached (the order stays `created`).
    """
    order = Order.objects.get(pk=order.pk)
    if order.status not in Order.HOLDING_STOCK or order.expires_at <= timezone.now():
        raise InvalidTransition(f"Order {order.short_id} is not awaiting payment.")
    existing = Payment.objects.filter(order_id=order.pk).first()
    if existing is None:
        return _store_payment_intent(
            order_id=order.pk, intent=gateway.create_payment_intent(order=order)
        )
    if order.status == Order.Status.CREATED:
        with transaction.atomic():
            _await_payment(order_services.lock_order(order_id=order.pk))
    return existing


def start_payment_after_checkout(*, order: Order) -> Order:
    """Create the PaymentIntent right after checkout commits and return the order as it
    now stands: `payment_pending`, or still `created` (the customer can retry) if Stripe
    is unreachable.

    The order was placed a moment ago, so it has no payment and ensure_payment's two
    look-ups before the Stripe call are skipped, and `order`, the copy checkout
    inserted, is what gets moved on (with its items, for the answer) unless something
    else moved the order meanwhile (see _store_payment_intent).
    """
    if order.expires_at <= timezone.now():  # a replayed checkout whose hold ran out
        return order
    try:
        intent = gateway.create_payment_intent(order=order)
    except (PaymentUnavailable, gateway.StripeError) as exc:
        logger.warning("PaymentIntent for order %s not created: %s", order.pk, exc)
        return order
    return _store_payment_intent(order_id=order.pk, intent=intent, placed=order).order


@transaction.atomic
def _store_payment_intent(*, order_id, intent: dict, placed: Order | None = None) -> Payment:
    """Record the order's PaymentIntent under the order's row lock and make the order
    `payment_pending` if it is still `created`.

    `placed` is the caller's copy of an order checkout inserted a moment ago. Then the
    common case costs three statements besides the audit row: the lock reads only the
    status, FOR NO KEY UPDATE (it excludes every other writer of the order, as they all
    lock its row, but not inserts of rows referring to it); the payment is inserted
    unless a webhook stored it first (one INSERT ... ON CONFLICT DO NOTHING, instead of a
    look-up then an INSERT); `placed` itself moves on and only its status and updated_at
    are written. If the order moved on meanwhile (a webhook, a cancel) or the payment
    was there already, the general path below re-reads both.
    """
    if placed is not None:
        status = (
            Order.objects.select_for_update(no_key=True)
            .filter(pk=order_id)
            .values_list("status", flat=True)
            .get()
        )
        if status == Order.Status.CREATED:
            payment = Payment(**_payment_values(placed, intent))
            if _insert_unless_present(payment, unique="stripe_payment_intent_id"):
                order_services.start_payment(order=placed, locked=True)
                return payment
    order = order_services.lock_order(order_id=order_id)
    # Every writer of an order's Payment (this, webhooks, reconciliation) holds the
    # order's row lock, so a plain look-up then insert cannot race.
    payment = Payment.objects.filter(
        stripe_payment_intent_id=intent["id"]
    ).first() or Payment.objects.create(**_payment_values(order, intent))
    _await_payment(order)
    return payment


def _payment_values(order: Order, intent: dict) -> dict:
    """The new Payment of `order` for the PaymentIntent Stripe just created."""
    return {
        "order": order,
        "stripe_payment_intent_id": intent["id"],
        "client_secret": intent.get("client_secret") or "",
        "amount": order.total,
        "currency": order.currency,
        "status": intent["status"],
    }


def _insert_unless_present(obj, *, unique: str) -> bool:
    """INSERT `obj` unless a row with the same `unique` field value exists, in one
    statement (ON CONFLICT DO NOTHING RETURNING: PostgreSQL, and SQLite 3.35+). True,
    with obj's primary key set, when inserted. The ORM's bulk_create(ignore_conflicts)
    cannot tell which happened. Values are adapted by the model's own fields."""
    meta = obj._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    # Only the model's own table and column names go into the text; values are parameters.
    columns = ", ".join(quote(f.column) for f in fields)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        f" ON CONFLICT ({quote(meta.get_field(unique).column)}) DO NOTHING"
        f" RETURNING {quote(meta.pk.column)}"
    )
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding, obj._state.db = False, connection.alias
    return True


def _await_payment(order: Order) -> None:
    # The order is locked; a webhook may have moved it on already.
    if order.status == Order.Status.CREATED:
        order_services.start_payment(order=order, locked=True)


def start_deposit(*, user, amount: Decimal, idempotency_key: str | None = None) -> Deposit:
    """A customer tops up their wallet by card: the deposit is recorded (wallets), then
    its PaymentIntent is created at Stripe, outside any transaction, and stored on it.

    Idempotent: the same key gives back the same deposit (marked `replayed`) and, as
    Stripe's key derives from the deposit id, the same PaymentIntent. Raises
    InvalidAmount, InvalidDeposit, IdempotencyConflict, and PaymentUnavailable while
    Stripe cannot be reached (the deposit stays pending without a PaymentIntent: the
    same key tries again, and reconciliation ends it once abandoned).
    """
    deposit = wallet_services.open_deposit(
        user=user, amount=amount, idempotency_key=idempotency_key
    )
    replayed = getattr(deposit, "replayed", False)
    if not deposit.payment_intent_id:
        intent = gateway.create_deposit_payment_intent(deposit=deposit)
        deposit = _apply_to_deposit(deposit_id=deposit.pk, intent=intent)
    deposit.replayed = replayed
    return deposit


def cancel_open_payment_intent(*, order: Order, reason: str = "abandoned") -> None:
    """Cancel the order's PaymentIntent at Stripe unless it already ended.

    Runs once an unpaid order's cancellation or expiry has committed, or once an order
    was paid another way (from the wallet) (subscribers of orders.events), so no lock
    is held during the Stripe call. A payment that went through meanwhile is applied
    at once: a late payment, or a second payment of a paid order (refunded in full). A
    failure is logged and left to reconciliation.
    """
    intent_id = (
        Payment.objects.filter(order_id=order.pk)
        .exclude(status__in=_FINAL)
        .values_list("stripe_payment_intent_id", flat=True)
        .first()
    )
    if intent_id is not None:
        _cancel_payment_intent(intent_id, reason=reason)


def _cancel_payment_intent(payment_intent_id: str, *, reason: str = "abandoned") -> None:
    try:
        intent = gateway.cancel_or_retrieve_payment_intent(payment_intent_id, reason=reason)
    except (PaymentUnavailable, gateway.StripeError) as exc:
        logger.warning("Could not cancel PaymentIntent %s: %s", payment_intent_id, exc)
        return
    apply_payment_intent(payment_intent=intent)


def settle_before_close(*, order: Order, reason: str) -> None:
    """Before an unpaid order is cancelled or expires (orders.events.OrderClosing, with
    `reason` "cancel" or "expire"): make sure no payment can still arrive for it.

    Outside any lock, cancels its PaymentIntent at Stripe. If Stripe answers that the
    payment already succeeded, the payment is applied as a webhook would (the order
    becomes paid, and the caller does not close it). Raises PaymentInProgress while a
    payment is processing (or was received but could not be applied: staff review it)
    and PaymentUnavailable while Stripe cannot be reached; nothing changes then.
    """
    intent_id = (
        Payment.objects.filter(order_id=order.pk)
        .exclude(status=Payment.Status.CANCELED)
        .values_list("stripe_payment_intent_id", flat=True)
        .first()
    )
    if intent_id is None:
        return
    try:
        intent = gateway.cancel_or_retrieve_payment_intent(
            intent_id, reason=CANCELLATION_REASONS[reason]
        )
    except gateway.StripeError as exc:  # Stripe refused to answer about it
        logger.warning("PaymentIntent %s could not be settled: %s", intent_id, exc)
        raise PaymentUnavailable() from exc
    apply_payment_intent(payment_intent=intent)
    paid = Order.objects.filter(pk=order.pk, status__in=Order.SOLD).exists()
    if intent["status"] != Payment.Status.CANCELED and not paid:
        raise PaymentInProgress()


def refresh_payment(*, order: Order) -> None:
    """Ask Stripe about the order's PaymentIntent now and apply what it says, instead of
    waiting for the webhook (the customer's browser just confirmed the payment).

    Raises PaymentUnavailable while Stripe cannot be reached.
    """
    payment = Payment.objects.filter(order_id=order.pk).exclude(status__in=_FINAL).first()
    if payment is not None:
        apply_payment_intent(
            payment_intent=gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
        )


def refresh_deposit(*, deposit: Deposit) -> Deposit:
    """Ask Stripe about a pending deposit's PaymentIntent now and apply what it says (the
    customer's browser just confirmed it), instead of waiting for the webhook; returns
    the deposit as it then stands. Raises PaymentUnavailable while Stripe cannot be
    reached."""
    if deposit.status != Deposit.Status.PENDING or not deposit.payment_intent_id:
        return deposit
    intent = gateway.retrieve_payment_intent(deposit.payment_intent_id)
    return _apply_to_deposit(deposit_id=deposit.pk, intent=intent)


def apply_payment_intent(*, payment_intent: dict, declined: bool = False) -> None:
    """Bring the shop in line with a PaymentIntent as Stripe reports it.

    Used by webhooks and by reconciliation alike, and idempotent: applying the same
    state twice changes nothing the second time. A deposit's PaymentIntent goes to its
    deposit (credited once when it succeeds). Otherwise finds the order by the stored
    PaymentIntent id or, when the shop has not stored it yet, by the order id in the
    metadata. `declined` marks a payment_intent.payment_failed event.
    """
    deposit_id = _deposit_id_for(payment_intent)
    if deposit_id is not None:
        _apply_to_deposit(deposit_id=deposit_id, intent=payment_intent)
        return
    order_id = _order_id_for(payment_intent)
    if order_id is None:
        logger.info("PaymentIntent %s belongs to no order here", payment_intent["id"])
        return
    with transaction.atomic():
        order = order_services.lock_order(order_id=order_id)
        payment = Payment.objects.select_for_update().filter(order=order).first()
        if payment is not None and payment.stripe_payment_intent_id != payment_intent["id"]:
            order_services.flag_for_review(
                order=order,
                reason=(
                    f"A second PaymentIntent {payment_intent['id']} "
                    f"({payment_intent['status']}) names this order."
                ),
            )
            return
        if declined:
            # A decline is a fact about one attempt: recorded even when a later attempt's
            # success reached the shop first (this event is then a stale snapshot).
            _record_decline(order=order, intent=payment_intent)
        payment = _mirror(order=order, payment=payment, intent=payment_intent)
        if payment is None:
            return
        status = payment_intent["status"]
        if status == Payment.Status.SUCCEEDED:
            _apply_success(order=order, payment=payment, intent=payment_intent)
        elif (
            status == Payment.Status.CANCELED
            and order.status in Order.HOLDING_STOCK
            and payment_intent.get("cancellation_reason") not in CANCELLATION_REASONS.values()
        ):
            order_services.fail_order(
                order=order, reason=payment_intent.get("cancellation_reason") or "canceled"
            )


def _record_decline(*, order: Order, intent: dict) -> None:
    """Audit a declined attempt; tell the customer while they can still pay."""
    reason = _decline_reason(intent)
    record(
        action=Action.PAYMENT_DECLINED,
        entity_type=Entity.ORDER,
        entity_id=order.pk,
        after={"reason": reason, "payment_intent": intent["id"]},
    )
    if order.status in Order.HOLDING_STOCK:
        emails.enqueue(order_id=order.pk, kind=emails.Kind.DECLINED, context={"reason": reason})


def _decline_reason(intent: dict) -> str:
    error = intent.get("last_payment_error") or {}
    return error.get("message") or error.get("code") or "declined"


def _deposit_id_for(intent: dict):
    metadata = intent.get("metadata") or {}
    if metadata.get("order_id"):
        return None  # an order's: no look-up among deposits
    return wallet_selectors.deposit_id_for(
        payment_intent_id=intent["id"], metadata_id=_as_uuid(metadata.get("deposit_id"))
    )


def _apply_to_deposit(*, deposit_id, intent: dict) -> Deposit:
    return wallet_services.apply_deposit_payment(
        deposit_id=deposit_id,
        payment_intent_id=intent["id"],
        payment_status=intent["status"],
        client_secret=intent.get("client_secret") or "",
        amount_received=gateway.from_minor_units(
            intent.get("amount_received") or 0, intent["currency"]
        ),
        currency=intent["currency"],
    )


def _order_id_for(intent: dict):
    stored = (
        Payment.objects.filter(stripe_payment_intent_id=intent["id"])
        .values_list("order_id", flat=True)
        .first()
    )
    if stored:
        return stored
    candidate = (intent.get("metadata") or {}).get("order_id")
    if candidate and Order.objects.filter(pk=_as_uuid(candidate)).exists():
        return candidate
    return None


def _as_uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _mirror(*, order: Order, payment: Payment | None, intent: dict) -> Payment | None:
    """Create or update the order's Payment row (`payment`, locked, or None before the
    first) from a PaymentIntent; None when the snapshot is older than what is stored.
    The order row is locked."""
    if payment is not None and payment.status in _FINAL and intent["status"] != payment.status:
        # Succeeded and canceled are final at Stripe: this is an older snapshot
        # (a decline delivered after the success), so it must not undo anything.
        logger.info("Ignoring a stale %s snapshot of %s", intent["status"], intent["id"])
        return None
    if payment is None:
        payment = Payment(
            order=order,
            stripe_payment_intent_id=intent["id"],
            amount=order.total,
            currency=order.currency,
        )
    payment.client_secret = payment.client_secret or intent.get("client_secret") or ""
    payment.status = intent["status"]
    payment.amount_received = gateway.from_minor_units(
        intent.get("amount_received") or 0, intent["currency"]
    )
    if intent.get("last_payment_error"):
        payment.last_error = _decline_reason(intent)
    elif intent["status"] == Payment.Status.SUCCEEDED:
        payment.last_error = ""
    payment.save()
    return payment


def _apply_success(*, order: Order, payment: Payment, intent: dict) -> None:
    received = intent.get("amount_received") or 0
    expected = gateway.to_minor_units(order.total, order.currency)
    if received != expected or intent["currency"] != order.currency:
        reason = (
            f"PaymentIntent {intent['id']} received {received} {intent['currency'].upper()} "
            f"(minor units); the order expects {expected} {order.currency.upper()}."
        )
        if reason not in order.review_reason:
            order_services.flag_for_review(order=order, reason=reason)
        return
    if order.status in Order.HOLDING_STOCK:
        order_services.mark_paid(order=order)
    elif order.status in Order.SOLD and _paid_from_wallet(order):
        # The wallet paid the order while this card payment was on its way.
        _refund_in_full(
            payment=payment,
            reason="Paid by card after the order was paid from the wallet.",
            note=PAID_TWICE_NOTE,
        )
    elif (
        order.status in _CLOSED_WITHOUT_PAYMENT
        # Once any of it was refunded, the money is on its way back: never revive the order.
        and payment.amount_refunded == 0
        and not order_services.recover_late_payment(order=order)
    ):
        _refund_in_full(
            payment=payment,
            reason="Paid after the order closed; the stock was gone.",
            note=LATE_PAYMENT_NOTE,
        )


# Refunds


def _paid_from_wallet(order: Order) -> bool:
    return wallet_selectors.wallet_payment_of(order_id=order.pk) is not None


REFUND_REASON_LENGTH = Refund._meta.get_field("reason").max_length


def refund_payment(
    *,
    order: Order,
    actor,
    amount: Decimal | None = None,
    restock: bool = False,
    reason: str = "",
    expected_remaining: Decimal | None = None,
) -> Refund | LedgerEntry:
    """Staff refund part or all of what is left of an order's payment, the same way
    whatever paid it: an order paid from the wallet gets the amount back in that wallet
    at once (a `refund` ledger entry, returned); a card payment gets a Refund, sent to
    Stripe after the commit.

    The refund is recorded under the order's row lock (and the payment's or wallet's),
    so concurrent refunds can never exceed what was paid. The refund that completes the
    order's refund moves the order to `refunded`, and only that one may put the goods
    back in stock. Staff's `reason` is kept on the refund and in the audit log.

    `expected_remaining` is what was left to refund when staff confirmed (the admin's
    confirmation page): if another refund came in between, such as the same confirmation
    submitted twice, the amount left differs and nothing is refunded. Raises
    NotPermitted, InvalidTransition (order not paid or fulfilled) and InvalidRefund.
    """
    if not actor.is_staff:
        raise NotPermitted("Only staff can refund orders.")
    reason = reason.strip()
    if len(reason) > REFUND_REASON_LENGTH:
        raise InvalidRefund(
            _("A refund's reason has at most %(max)d characters.") % {"max": REFUND_REASON_LENGTH}
        )
    with transaction.atomic():
        order = order_services.lock_order(order_id=order.pk)
        if order.status not in _REFUNDABLE:
            raise InvalidTransition(f"Order {order.short_id} is not refundable.")
        to_wallet = wallet_selectors.refundable_to_wallet(order_id=order.pk)
        if to_wallet is not None:
            _ensure_unchanged(expected_remaining, remaining=to_wallet, order=order)
            amount = _refund_amount(amount, remaining=to_wallet, order=order, restock=restock)
            completes = amount == to_wallet
            refund = _refund_to_wallet(order=order, amount=amount, actor=actor, reason=reason)
        else:
            payment = Payment.objects.select_for_update().filter(order=order).first()
            if payment is None:
                raise InvalidTransition(f"Order {order.short_id} is not refundable.")
            remaining = payment.refundable
            _ensure_unchanged(expected_remaining, remaining=remaining, order=order)
            amount = _refund_amount(amount, remaining=remaining, order=order, restock=restock)
            completes = amount == remaining
            refund = _record_refund(
                payment=payment, amount=amount, actor=actor, restock=restock, reason=reason
            )
        if completes:
            order_services.refund_order(order=order, actor=actor, restock=restock)
    return refund


def check_refund(*, order: Order, amount: Decimal | None, restock: bool = False) -> Decimal:
    """The amount refund_payment would refund now (all that is left when `amount` is
    None), or its InvalidTransition or InvalidRefund; locks and changes nothing. The admin
    asks staff to confirm only a refund that can happen."""
    remaining = refundable_amount(order=order)
    if order.status not in _REFUNDABLE or remaining is None:
        raise InvalidTransition(f"Order {order.short_id} is not refundable.")
    return _refund_amount(amount, remaining=remaining, order=order, restock=restock)


def _ensure_unchanged(expected: Decimal | None, *, remaining: Decimal, order: Order) -> None:
    if expected is not None and expected != remaining:
        raise InvalidRefund(
            _(
                "Order %(number)s was refunded meanwhile: %(remaining)s %(currency)s is left "
                "to refund now. Nothing was refunded; check the order and try again."
            )
            % {"number": order.short_id, "remaining": remaining, "currency": order.currency}
        )


def _refund_amount(amount, *, remaining: Decimal, order: Order, restock: bool) -> Decimal:
    """The amount to refund (all that is left when None); raises InvalidRefund."""
    amount = remaining if amount is None else Decimal(amount)
    if amount != amount.quantize(Decimal("0.01")) or not 0 < amount <= remaining:
        raise InvalidRefund(
            f"The refund must be between 0.01 and {format_amount(remaining, order.currency)}."
        )
    if restock and amount != remaining:
        raise InvalidRefund("Goods go back to stock only with the refund of the whole order.")
    return amount


def _refund_to_wallet(*, order: Order, amount: Decimal, actor, reason: str = "") -> LedgerEntry:
    """Credit the wallet that paid the order (order row locked), audit it on the order and
    tell the customer."""
    entry = wallet_services.refund_order_to_wallet(order=order, amount=amount, actor=actor)
    record(
        action=Action.REFUNDED_TO_WALLET,
        entity_type=Entity.ORDER,
        entity_id=order.pk,
        actor=actor,
        after={
            "wallet": entry.wallet_id,
            "entry": entry.pk,
            "amount": str(amount),
            **({"reason": reason} if reason else {}),
        },
    )
    emails.enqueue(
        order_id=order.pk,
        kind=emails.Kind.REFUNDED,
        reference=f"wallet-refund-{entry.pk}",
        context={"amount": str(amount), "to_wallet": True},
    )
    return entry


def _refund_in_full(*, payment: Payment, reason: str, note: str) -> Refund | None:
    """Give back everything not yet refunded (the late-payment case); system actor."""
    if payment.refundable <= 0:
        return None
    return _record_refund(payment=payment, amount=payment.refundable, reason=reason, note=note)


def _record_refund(*, payment, amount, actor=None, reason="", restock=False, note="") -> Refund:
    refund = Refund.objects.create(
        payment=payment, amount=amount, reason=reason, restock=restock, created_by=actor
    )
    payment.amount_refunded += amount
    payment.save(update_fields=["amount_refunded", "updated_at"])
    record(
        action=Action.REFUND_REQUESTED,
        entity_type=Entity.ORDER,
        entity_id=payment.order_id,
        actor=actor,
        after={"refund_id": refund.pk, "amount": str(amount), "reason": reason},
    )
    _email_refund(refund=refund, note=note)
    transaction.on_commit(partial(submit_refund, refund_id=refund.pk))
    return refund


def _email_refund(*, refund: Refund, note: str = "") -> None:
    """Tell the customer about a refund, with its amount (one email per refund; in the
    transaction that records it)."""
    emails.enqueue(
        order_id=refund.payment.order_id,
        kind=emails.Kind.REFUNDED,
        reference=f"refund-{refund.pk}",
        context={"amount": str(refund.amount), "note": note},
    )


def submit_refund(*, refund_id) -> None:
    """Send a recorded refund to Stripe (idempotent: keyed by the refund's id).

    If Stripe cannot be reached the refund stays pending and reconciliation retries.
    """
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.stripe_refund_id:
        return
    try:
        data = gateway.create_refund(refund=refund)
    except (PaymentUnavailable, gateway.StripeError) as exc:
        logger.warning("Refund %s not sent to Stripe: %s", refund_id, exc)
        return
    apply_refund(refund=data)


def apply_refund(*, refund: dict) -> None:
    """Record a Stripe refund: one the shop asked for, or one made elsewhere (dashboard).

    Idempotent. The payment's refunded amount is recomputed from its refunds; when the
    whole payment is refunded, the order becomes `refunded`.
    """
    payment_id = (
        Payment.objects.filter(stripe_payment_intent_id=refund.get("payment_intent"))
        .values_list("order_id", flat=True)
        .first()
    )
    if payment_id is None:
        logger.info("Refund %s is for no payment here", refund["id"])
        return
    with transaction.atomic():
        order = order_services.lock_order(order_id=payment_id)
        payment = Payment.objects.select_for_update().get(order=order)
        local = _local_refund(payment=payment, refund=refund)
        is_new = local.pk is None
        local.stripe_refund_id = refund["id"]
        local.status = refund.get("status") or Refund.Status.PENDING
        local.save()
        counted = payment.refunds.filter(status__in=Refund.COUNTED).aggregate(s=Sum("amount"))
        payment.amount_refunded = counted["s"] or Decimal("0.00")
        payment.save(update_fields=["amount_refunded", "updated_at"])
        if is_new:
            record(
                action=Action.REFUND_MADE_EXTERNALLY,
                entity_type=Entity.ORDER,
                entity_id=order.pk,
                after={"refund": refund["id"], "amount": str(local.amount)},
            )
            _email_refund(refund=local)
        if local.status in (Refund.Status.FAILED, Refund.Status.CANCELED):
            order_services.flag_for_review(
                order=order, reason=f"Refund {refund['id']} {local.status}."
            )
        # A card payment refunded in full ends the order, unless the wallet paid it
        # (this was the second payment of it).
        if payment.refundable == 0 and order.status in _REFUNDABLE and not _paid_from_wallet(order):
            order_services.refund_order(order=order)


def _local_refund(*, payment: Payment, refund: dict) -> Refund:
    found = payment.refunds.filter(stripe_refund_id=refund["id"]).first()
    shop_id = (refund.get("metadata") or {}).get("shop_refund_id")
    if found is None and shop_id and str(shop_id).isdigit():
        found = payment.refunds.filter(pk=int(shop_id), stripe_refund_id__isnull=True).first()
    if found is not None:
        return found
    return Refund(
        payment=payment,
        amount=gateway.from_minor_units(refund["amount"], payment.currency),
        reason="Made outside the shop",
    )


def sync_refunds(*, payment_intent_id: str) -> None:
    """Fetch a PaymentIntent's refunds from Stripe and record each (charge.refunded)."""
    for refund in gateway.list_refunds(payment_intent_id):
        apply_refund(refund=refund)


def flag_dispute(*, dispute: dict) -> None:
    """A customer disputed a charge: put the order in front of staff."""
    order_id = (
        Payment.objects.filter(stripe_payment_intent_id=dispute.get("payment_intent"))
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        return
    order_services.flag_for_review(
        order=Order(pk=order_id),
        reason=f"Dispute {dispute['id']} ({dispute.get('reason', 'unknown reason')}).",
    )


# Reconciliation


def reconcile_age() -> timedelta:
    """How long a payment may stay open before reconciliation asks Stripe about it: five
    minutes, or a third of RESERVATION_TTL when that is shorter, so a lost webhook is
    caught well before the order would expire."""
    return min(timedelta(minutes=5), settings.RESERVATION_TTL / 3)


@count_reconciliation_run
def reconcile_payments(*, older_than: timedelta | None = None) -> int:
    """Bring the shop in line with Stripe where a webhook may have been lost.

    - Payments still open after `older_than` (default `reconcile_age()`): unpaid orders,
      and closed orders or orders paid from the wallet whose PaymentIntent was never
      seen to end (its cancel may have failed, or it succeeded with the webhook lost):
      Stripe's state is applied as if the webhook had arrived, and the open
      PaymentIntent of an order that no longer awaits payment is cancelled.
    - Wallet deposits still pending after `older_than`, the same way; one not paid
      within Deposit.PAYABLE_FOR is abandoned: its PaymentIntent is cancelled (or found
      to have succeeded, and credited). A deposit whose PaymentIntent was never stored
      gets it back from Stripe by its idempotency key once abandoned.
    - Orphans: PaymentIntents Stripe made for the shop's orders in the last two
      reservation periods that the shop never stored (the database failed between
      creating one and recording it); each is applied (a payment on a closed order goes
      the late-payment way) or cancelled like the others.
    - Refunds Stripe never received are sent again.

    Returns the number of orders and deposits whose status changed. Safe to run
    repeatedly and from several workers at once (every change is applied under the
    order's or the deposit's row lock).
    """
    now = timezone.now()
    cutoff = now - (reconcile_age() if older_than is None else older_than)
    unsettled = Payment.objects.filter(
        Q(order__status__in=Order.HOLDING_STOCK) | ~Q(status__in=_FINAL),
        created_at__lte=cutoff,
    ).values_list("stripe_payment_intent_id", flat=True)
    changed = 0
    for intent_id in list(unsettled):
        try:
            intent = gateway.retrieve_payment_intent(intent_id)
        except (PaymentUnavailable, gateway.StripeError) as exc:
            logger.warning("Reconciliation of %s failed: %s", intent_id, exc)
            continue
        changed += _reconcile(intent)
    for intent in _orphans(cutoff=cutoff):
        changed += _reconcile(intent)
    for deposit_id, intent_id, created_at in wallet_selectors.unsettled_deposits(
        created_before=cutoff
    ):
        changed += _reconcile_deposit(
            deposit_id=deposit_id,
            intent_id=intent_id,
            abandoned=created_at <= now - Deposit.PAYABLE_FOR,
        )
    unsent = Refund.objects.filter(stripe_refund_id__isnull=True, created_at__lte=cutoff)
    for refund_id in unsent.values_list("pk", flat=True):
        submit_refund(refund_id=refund_id)
    return changed


def _reconcile(intent: dict) -> int:
    """Apply one PaymentIntent as Stripe has it; 1 if its order's status changed."""
    order_id = _order_id_for(intent)
    if order_id is None:
        return 0
    before = Order.objects.values_list("status", flat=True).get(pk=order_id)
    apply_payment_intent(payment_intent=intent)
    if before == Order.Status.CREATED and intent["status"] not in _FINAL:
        _store_payment_intent(order_id=order_id, intent=intent)  # an orphan: payable now
    if before not in Order.HOLDING_STOCK and intent["status"] not in _FINAL:
        # Closed, or paid from the wallet: this PaymentIntent must not take money any more.
        _cancel_payment_intent(
            intent["id"], reason="duplicate" if before in Order.SOLD else "abandoned"
        )
    after = Order.objects.values_list("status", flat=True).get(pk=order_id)
    if after == before:
        return 0
    RECONCILIATION_FIXES.labels(action=after).inc()
    return 1


def _reconcile_deposit(*, deposit_id, intent_id: str | None, abandoned: bool) -> int:
    """Apply a pending deposit's PaymentIntent as Stripe has it, cancelling it first when
    the deposit is `abandoned`; 1 if the deposit ended (credited or cancelled)."""
    if intent_id is None and not abandoned:
        return 0  # its creation failed a moment ago: the customer's retry may still make it
    try:
        if intent_id is None:
            # Stored nowhere: the idempotency key gives back the PaymentIntent made for
            # it, if any (else a new one, which is cancelled at once below).
            deposit = Deposit.objects.get(pk=deposit_id)
            intent_id = gateway.create_deposit_payment_intent(deposit=deposit)["id"]
        if abandoned:
            intent = gateway.cancel_or_retrieve_payment_intent(intent_id, reason="abandoned")
        else:
            intent = gateway.retrieve_payment_intent(intent_id)
    except (PaymentUnavailable, gateway.StripeError) as exc:
        logger.warning("Reconciliation of deposit %s failed: %s", deposit_id, exc)
        return 0
    deposit = _apply_to_deposit(deposit_id=deposit_id, intent=intent)
    if deposit.status == Deposit.Status.PENDING:
        return 0
    RECONCILIATION_FIXES.labels(action=f"deposit_{deposit.status}").inc()
    return 1


def _orphans(*, cutoff) -> list[dict]:
    """PaymentIntents with an order id in their metadata, made since two reservation
    periods ago and before `cutoff`, that the shop has no record of."""
    since = timezone.now() - 2 * settings.RESERVATION_TTL
    try:
        intents = gateway.list_payment_intents(created_since=int(since.timestamp()))
    except (PaymentUnavailable, gateway.StripeError) as exc:
        logger.warning("Could not list PaymentIntents to find orphans: %s", exc)
        return []
    intents = [
        intent
        for intent in intents
        if (intent.get("metadata") or {}).get("order_id")
        and intent["created"] <= cutoff.timestamp()
    ]
    known = set(
        Payment.objects.filter(
            stripe_payment_intent_id__in=[intent["id"] for intent in intents]
        ).values_list("stripe_payment_intent_id", flat=True)
    )
    return [intent for intent in intents if intent["id"] not in known]


# Retention


def prune_webhook_payloads(*, older_than: timedelta, batch_size: int = 1000) -> int:
    """Empty the payload of processed Stripe events received more than `older_than` ago;
    returns how many. Failed (and not yet processed) events keep theirs for a replay.

    Batches picked with SKIP LOCKED: a replay holding an event is skipped, and two
    workers pruning at once share the work instead of waiting on each other.
    """
    cutoff = timezone.now() - older_than
    pruned = 0
    while True:
        with transaction.atomic():
            ids = list(
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(
                    status=WebhookEvent.Status.PROCESSED,
                    received_at__lt=cutoff,
                    payload__isnull=False,
                )
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return pruned
            pruned += WebhookEvent.objects.filter(pk__in=ids).update(payload=None)
