"""Order lifecycle: each function is one FSM transition with its side effects.

Every function locks the order row first (then inventory rows, in product-id order,
through shop.inventory), checks the transition is allowed, changes stock, saves the
order and writes the audit event, all in one transaction. Callers pass the order they
hold; the function re-reads it under the lock, so a stale copy cannot cause a double
release, and returns the fresh one.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import record
from orders import emails
from orders.models import Order, OrderItem
from orders.selectors import stock_discrepancies
from shop import inventory
from shop.exceptions import InsufficientStock, InvalidTransition, NotPermitted

logger = logging.getLogger(__name__)


def lock_order(*, order_id) -> Order:
    """Re-read an order with its row locked. Must run inside a transaction."""
    return Order.objects.select_for_update().get(pk=order_id)


def order_quantities(order: Order) -> dict[int, int]:
    return dict(order.items.values_list("product_id", "quantity"))


def ensure_can(order: Order, name: str) -> None:
    """Raise InvalidTransition unless the order's state allows transition `name`."""
    if not can_proceed(getattr(order, name)):
        raise InvalidTransition(
            f"Order {order.short_id} is {order.get_status_display().lower()}; "
            f"'{name.replace('_', ' ')}' is not possible."
        )


def transition(*, order: Order, name: str, actor=None, **audit_after) -> Order:
    """Run transition `name` on a locked order, save it and audit it.

    Raises InvalidTransition when the order's state does not allow it.
    """
    ensure_can(order, name)
    before = {"status": order.status}
    getattr(order, name)()
    order.save()
    record(
        action=f"order.{name}",
        entity_type="order",
        entity_id=order.pk,
        actor=actor,
        before=before,
        after={"status": order.status, **audit_after},
    )
    return order


@transaction.atomic
def start_payment(*, order: Order) -> Order:
    """The PaymentIntent exists: the order now waits for the customer to pay."""
    order = lock_order(order_id=order.pk)
    return transition(order=order, name="start_payment")


@transaction.atomic
def cancel_order(*, order: Order, actor) -> Order:
    """Cancel an unpaid order (its owner or staff) and release its reserved stock."""
    order = lock_order(order_id=order.pk)
    if not (actor.is_staff or actor.pk == order.user_id):
        raise NotPermitted()
    ensure_can(order, "cancel")
    inventory.release(
        quantities=order_quantities(order), actor=actor, reason=f"order {order.pk} cancelled"
    )
    _cancel_payment_intent_after_commit(order)
    return transition(order=order, name="cancel", actor=actor)


def expire_order(*, order: Order) -> bool:
    """Expire an unpaid order whose reservation has run out and release its stock.

    Returns False (and changes nothing) when the order is not due or no longer
    expirable, so racing expiry runs release stock exactly once.
    """
    with transaction.atomic():
        order = lock_order(order_id=order.pk)
        if order.expires_at > timezone.now() or not can_proceed(order.expire):
            return False
        _expire_locked(order)
    return True


def expire_due_orders(*, limit: int | None = None) -> int:
    """Expire every unpaid order past its reservation; returns how many it expired.

    One order per transaction, picked with SKIP LOCKED, so several workers can run
    this at once without waiting on (or expiring twice) the same order.
    """
    expired = 0
    while limit is None or expired < limit:
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(skip_locked=True)
                .filter(status__in=Order.HOLDING_STOCK, expires_at__lte=timezone.now())
                .order_by("expires_at")
                .first()
            )
            if order is None:
                break
            _expire_locked(order)
        expired += 1
    return expired


def _expire_locked(order: Order) -> None:
    inventory.release(quantities=order_quantities(order), reason=f"order {order.pk} expired")
    _cancel_payment_intent_after_commit(order)
    transition(order=order, name="expire")


def _cancel_payment_intent_after_commit(order: Order) -> None:
    # Imported here: payments builds on orders, not the other way round.
    from payments.services import cancel_payment_intent_after_commit

    cancel_payment_intent_after_commit(order=order)


@transaction.atomic
def fulfil_order(*, order: Order, actor) -> Order:
    """Staff mark a paid order as shipped."""
    if not actor.is_staff:
        raise NotPermitted("Only staff can fulfil orders.")
    order = lock_order(order_id=order.pk)
    transition(order=order, name="fulfil", actor=actor)
    emails.enqueue(order_id=order.pk, kind=emails.Kind.FULFILLED)
    return order


@transaction.atomic
def mark_paid(*, order: Order) -> Order:
    """The payment succeeded: commit the reserved stock.

    A success may arrive before the shop recorded the PaymentIntent (order still
    `created`); the order then passes through payment_pending on its way.
    """
    order = lock_order(order_id=order.pk)
    if order.status == Order.Status.CREATED:
        transition(order=order, name="start_payment")
    ensure_can(order, "mark_paid")
    inventory.commit(quantities=order_quantities(order), reason=f"order {order.pk} paid")
    transition(order=order, name="mark_paid")
    emails.enqueue(order_id=order.pk, kind=emails.Kind.PAID)
    return order


@transaction.atomic
def fail_order(*, order: Order, reason: str = "") -> Order:
    """The payment ended for good (the PaymentIntent was cancelled): release the stock."""
    order = lock_order(order_id=order.pk)
    ensure_can(order, "fail")
    inventory.release(quantities=order_quantities(order), reason=f"order {order.pk} payment failed")
    return transition(order=order, name="fail", reason=reason)


def recover_late_payment(*, order: Order) -> bool:
    """A payment succeeded after the order expired, was cancelled or failed.

    Re-reserve and commit every line if the stock is still there and mark the order
    paid; returns True. If any line is short, nothing changes and it returns False:
    the caller refunds the payment in full.
    """
    try:
        with transaction.atomic():
            order = lock_order(order_id=order.pk)
            ensure_can(order, "recover_late_payment")
            quantities = order_quantities(order)
            reason = f"order {order.pk} paid late"
            inventory.reserve(quantities=quantities, reason=reason)
            inventory.commit(quantities=quantities, reason=reason)
            transition(order=order, name="recover_late_payment")
            emails.enqueue(order_id=order.pk, kind=emails.Kind.PAID)
    except InsufficientStock:
        return False
    return True


@transaction.atomic
def refund_order(*, order: Order, actor=None, restock: bool = False) -> Order:
    """The order's payment is fully refunded; with `restock`, its goods go back to stock."""
    order = lock_order(order_id=order.pk)
    ensure_can(order, "refund")
    if restock:
        inventory.return_to_stock(
            quantities=order_quantities(order), actor=actor, reason=f"order {order.pk} refunded"
        )
        order.restocked = True
    transition(order=order, name="refund", actor=actor, restocked=order.restocked)
    emails.enqueue(order_id=order.pk, kind=emails.Kind.REFUNDED)
    return order


@transaction.atomic
def flag_for_review(*, order: Order, reason: str) -> Order:
    """Ask staff to look at an order (amount mismatch, dispute). Does not change its status."""
    order = lock_order(order_id=order.pk)
    before = {"needs_review": order.needs_review, "review_reason": order.review_reason}
    order.needs_review = True
    order.review_reason = "\n".join(filter(None, [order.review_reason, reason]))
    order.save(update_fields=["needs_review", "review_reason", "updated_at"])
    record(
        action="order.flagged",
        entity_type="order",
        entity_id=order.pk,
        before=before,
        after={"needs_review": True, "review_reason": order.review_reason},
    )
    return order


# Stock drift (nightly job and `manage.py check_stock_drift`)

_RESERVED_DRIFT = "reserved != quantities of pending orders"


def check_stock_drift(*, autofix: bool | None = None) -> list[dict]:
    """Report every product whose stock breaks an invariant (orders.selectors), through
    the log and an `inventory.drift_detected` audit event; returns them.

    Nothing changes unless `autofix` (default: settings.STOCK_DRIFT_AUTOFIX) is on; then a
    product whose only fault is `reserved` differing from its pending orders gets
    `reserved` recomputed under its row lock (shop.inventory.correct_reserved, the
    difference moving to or from available). Any other fault (conservation broken,
    negative stock) is left for staff: the shop cannot tell which counter is wrong.
    Each problem comes back with `corrected` set.
    """
    autofix = settings.STOCK_DRIFT_AUTOFIX if autofix is None else autofix
    problems = stock_discrepancies()
    for problem in problems:
        problem["corrected"] = False
        logger.warning(
            "Stock drift on product %s: %s (available=%s reserved=%s received=%s sold=%s "
            "pending=%s)",
            problem["product_id"],
            "; ".join(problem["broken"]),
            problem["available"],
            problem["reserved"],
            problem["received"],
            problem["sold"],
            problem["pending"],
        )
        record(
            action="inventory.drift_detected",
            entity_type="inventory",
            entity_id=problem["product_id"],
            after={**problem, "autofix": autofix},
        )
        if autofix and problem["broken"] == [_RESERVED_DRIFT]:
            problem["corrected"] = _correct_reserved(product_id=problem["product_id"])
    return problems


def _correct_reserved(*, product_id: int) -> bool:
    """Recount the product's pending orders under its inventory row lock and set
    `reserved` to that. Under the lock no checkout, expiry or payment can move its
    stock, so the count cannot be stale. Returns whether it changed anything."""
    try:
        with transaction.atomic():
            rows = inventory.lock(product_ids=[product_id])
            pending = (
                OrderItem.objects.filter(
                    product_id=product_id, order__status__in=Order.HOLDING_STOCK
                ).aggregate(total=Sum("quantity"))["total"]
                or 0
            )
            row = rows.get(product_id)
            if row is None or row.reserved == pending:
                return False
            inventory.correct_reserved(
                product_id=product_id,
                reserved=pending,
                reason="stock drift: reserved recomputed from pending orders",
                locked=rows,
            )
    except InsufficientStock:
        logger.error("Stock drift on product %s not corrected: available too low", product_id)
        return False
    return True
