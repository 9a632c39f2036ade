"""Order lifecycle: each function is one FSM transition with its side effects.

Every function locks the order row first (then the coupon row through pricing.coupons,
then inventory rows, in product-id order, through shop.inventory), checks the
transition is allowed, changes stock, saves the order, writes the audit event and
publishes the order's domain event
(orders.events), all in one transaction. Callers pass the order they hold; the
function re-reads it under the lock, so a stale copy cannot cause a double release,
and returns the fresh one.

The apps above react to the published events (payments cancels the PaymentIntent of a
cancelled or expired order once the change has committed); this module imports none
of them.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from audit.actions import Action, Entity
from audit.services import record
from core import events
from core.exceptions import NotPermitted, ShopError
from orders import emails
from orders.events import (
    OrderCancelled,
    OrderClosing,
    OrderExpired,
    OrderFailed,
    OrderPaid,
    OrderPaying,
    OrderRefunded,
    OrderRefunding,
)
from orders.exceptions import InvalidShipment, InvalidTransition
from orders.models import Order
from orders.selectors import order_quantities, pending_quantity, stock_discrepancies
from pricing import coupons
from pricing.exceptions import CouponExhausted
from shop import cart, inventory
from shop.exceptions import InsufficientStock

logger = logging.getLogger(__name__)


def lock_order(*, order_id) -> Order:
    """Re-read an order with its row locked. Must run inside a transaction."""
    return Order.objects.select_for_update().get(pk=order_id)


# Plain words for staff and customers when a change is refused: "Order 280d1872 cannot be
# cancelled: it is paid." (what was refused, then why), never the transition's name.
REFUSED = {
    "start_payment": _("Order %(order)s cannot go to payment: %(state)s."),
    "mark_paid": _("Order %(order)s cannot be marked paid: %(state)s."),
    "fulfil": _("Order %(order)s cannot be fulfilled: %(state)s."),
    "cancel": _("Order %(order)s cannot be cancelled: %(state)s."),
    "expire": _("Order %(order)s cannot expire: %(state)s."),
    "fail": _("Order %(order)s cannot be marked failed: %(state)s."),
    "refund": _("Order %(order)s cannot be refunded: %(state)s."),
    "recover_late_payment": _("Order %(order)s cannot take a late payment: %(state)s."),
}
STATE = {
    Order.Status.CREATED: _("it is awaiting payment"),
    Order.Status.PAYMENT_PENDING: _("its payment is pending"),
    Order.Status.PAID: _("it is paid"),
    Order.Status.FULFILLED: _("it is fulfilled"),
    Order.Status.CANCELLED: _("it is cancelled"),
    Order.Status.EXPIRED: _("it has expired"),
    Order.Status.FAILED: _("its payment failed"),
    Order.Status.REFUNDED: _("it is refunded"),
}


def ensure_can(order: Order, transition: Callable) -> None:
    """Raise InvalidTransition unless the order's state allows `transition` (one of the
    order's transition methods, e.g. `order.cancel`), saying in plain words why not."""
    if not can_proceed(transition):
        raise InvalidTransition(
            REFUSED[transition.__name__] % {"order": order.short_id, "state": STATE[order.status]}
        )


def _run(
    order: Order,
    transition: Callable,
    *,
    action: Action,
    actor=None,
    update_fields=None,
    **audit_after,
) -> Order:
    """Run `transition` (a bound transition method of the locked `order`), save the order
    (only `update_fields`, when given) and audit it as `action`. Raises InvalidTransition
    when the state does not allow it."""
    ensure_can(order, transition)
    before = {"status": order.status}
    transition()
    order.save(update_fields=update_fields)
    record(
        action=action,
        entity_type=Entity.ORDER,
        entity_id=order.pk,
        actor=actor,
        before=before,
        after={"status": order.status, **audit_after},
    )
    return order


def start_payment(*, order: Order, locked: bool = False) -> Order:
    """The order's PaymentIntent exists: `created` -> `payment_pending`.

    With `locked`, the caller already holds the order's row lock in its transaction
    (payments records the PaymentIntent under it) and `order` is that locked copy.
    Raises InvalidTransition unless the order is `created`.
    """
    if not locked:
        with transaction.atomic():
            return start_payment(order=lock_order(order_id=order.pk), locked=True)
    # The transition changes the status alone: an UPDATE of every column would only
    # cost more (and the caller's copy may be the one checkout inserted).
    return _run(
        order,
        order.start_payment,
        action=Action.ORDER_PAYMENT_STARTED,
        update_fields=["status", "updated_at"],
    )


def cancel_order(*, order: Order, actor) -> Order:
    """Cancel an unpaid order (its owner or staff) and release its reserved stock.

    The payment is settled first, outside any lock (OrderClosing): when it turns out the
    customer's payment already went through, the order is paid instead and comes back
    as such (nothing is cancelled); while a payment is still processing, or the payment
    provider cannot be asked, the subscriber's error stops the cancel and nothing
    changes. Raises NotPermitted and InvalidTransition too.
    """
    order = Order.objects.get(pk=order.pk)
    if not (actor.is_staff or actor.pk == order.user_id):
        raise NotPermitted()
    ensure_can(order, order.cancel)
    events.publish(OrderClosing(order=order, reason="cancel"))
    with transaction.atomic():
        order = lock_order(order_id=order.pk)
        if order.status in Order.SOLD:
            return order  # the payment went through meanwhile: the customer has paid
        ensure_can(order, order.cancel)
        coupons.give_back(order_id=order.pk, actor=actor)
        inventory.release(
            quantities=order_quantities(order), actor=actor, reason=f"order {order.pk} cancelled"
        )
        _run(order, order.cancel, action=Action.ORDER_CANCELLED, actor=actor)
        emails.enqueue(order_id=order.pk, kind=emails.Kind.CANCELLED)
        events.publish(OrderCancelled(order=order))
    return order


def expire_order(*, order: Order) -> bool:
    """Expire an unpaid order whose reservation has run out and release its stock.

    The payment is settled first, outside any lock (OrderClosing): a payment that went
    through makes the order paid, not expired. Returns False and changes nothing when
    the order is not due, no longer expirable, or its payment cannot be settled yet (a
    payment processing, Stripe unreachable: a later run tries again), so racing expiry
    runs release stock exactly once.
    """
    order = Order.objects.get(pk=order.pk)
    if not _expirable(order):
        return False
    try:
        events.publish(OrderClosing(order=order, reason="expire"))
    except ShopError as exc:
        logger.warning("Order %s not expired yet: %s", order.pk, exc.detail)
        return False
    with transaction.atomic():
        order = lock_order(order_id=order.pk)
        if not _expirable(order):
            return False
        coupons.give_back(order_id=order.pk)
        inventory.release(quantities=order_quantities(order), reason=f"order {order.pk} expired")
        _run(order, order.expire, action=Action.ORDER_EXPIRED)
        emails.enqueue(order_id=order.pk, kind=emails.Kind.EXPIRED)
        events.publish(OrderExpired(order=order))
    return True


def _expirable(order: Order) -> bool:
    return order.expires_at <= timezone.now() and can_proceed(order.expire)


def expire_due_orders(*, limit: int | None = None) -> int:
    """Expire the unpaid orders past their reservation (at most `limit`, when given),
    the longest overdue first; returns how many it expired.

    Each goes through expire_order (its payment settled, then one transaction with the
    row locked), so several workers may run this at once: each order expires once, and
    one whose payment cannot be settled yet is left for the next run.
    """
    due = (
        Order.objects.filter(status__in=Order.HOLDING_STOCK, expires_at__lte=timezone.now())
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(expire_order(order=Order(pk=pk)) for pk in list(due))


SHIPPING_FIELD_LENGTH = Order._meta.get_field("tracking_number").max_length


@transaction.atomic
def fulfil_order(*, order: Order, actor, carrier: str = "", tracking_number: str = "") -> Order:
    """Staff mark a paid order as shipped, with the carrier and tracking number when
    there are any (both optional: goods handed over in person have neither). The shipped
    email and the order pages show them. Raises NotPermitted, InvalidShipment (a value
    longer than 100 characters) and InvalidTransition."""
    if not actor.is_staff:
        raise NotPermitted(_("Only staff can fulfil orders."))
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if max(len(carrier), len(tracking_number)) > SHIPPING_FIELD_LENGTH:
        raise InvalidShipment(
            _("Carrier and tracking number have at most %(max)d characters each.")
            % {"max": SHIPPING_FIELD_LENGTH}
        )
    order = lock_order(order_id=order.pk)
    ensure_can(order, order.fulfil)
    order.carrier, order.tracking_number = carrier, tracking_number
    _run(
        order,
        order.fulfil,
        action=Action.ORDER_FULFILLED,
        actor=actor,
        carrier=carrier,
        tracking_number=tracking_number,
    )
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
        start_payment(order=order, locked=True)
    ensure_can(order, order.mark_paid)
    quantities = order_quantities(order)
    events.publish(OrderPaying(order=order))
    inventory.commit(quantities=quantities, reason=f"order {order.pk} paid")
    _run(order, order.mark_paid, action=Action.ORDER_PAID)
    _after_payment(order, quantities)
    return order


def _after_payment(order: Order, quantities: dict[int, int]) -> None:
    """What every way to `paid` does beside the transition, in its transaction: the
    email, the cart, the event. The cart keeps an order's lines until it is paid, so a
    declined, expired or cancelled order leaves them there to try again; now the paid
    units leave it (shop.cart.remove_purchased)."""
    emails.enqueue(order_id=order.pk, kind=emails.Kind.PAID)
    cart.remove_purchased(user_id=order.user_id, quantities=quantities)
    events.publish(OrderPaid(order=order))


@transaction.atomic
def fail_order(*, order: Order, reason: str = "") -> Order:
    """The payment ended for good (the PaymentIntent was cancelled): release the stock."""
    order = lock_order(order_id=order.pk)
    ensure_can(order, order.fail)
    coupons.give_back(order_id=order.pk)
    inventory.release(quantities=order_quantities(order), reason=f"order {order.pk} payment failed")
    _run(order, order.fail, action=Action.ORDER_FAILED, reason=reason)
    events.publish(OrderFailed(order=order))
    return order


def recover_late_payment(*, order: Order) -> bool:
    """A payment succeeded after the order expired, was cancelled or failed.

    Re-reserve and commit every line if the stock is still there and mark the order
    paid; returns True. The coupon use the order gave back when it ended is taken
    again, so a coupon is never used more than `max_uses` times (its dates and
    activity are not checked again: the customer was charged the price they were
    quoted). If any line is short or the coupon is used up meanwhile, nothing changes
    and it returns False: the caller refunds the payment in full.
    """
    try:
        with transaction.atomic():
            order = lock_order(order_id=order.pk)
            ensure_can(order, order.recover_late_payment)
            events.publish(OrderPaying(order=order))
            if order.coupon_id is not None:
                coupons.redeem(coupon=order.coupon, user=order.user, order_id=order.pk)
            quantities = order_quantities(order)
            reason = f"order {order.pk} paid late"
            inventory.reserve(quantities=quantities, reason=reason)
            inventory.commit(quantities=quantities, reason=reason)
            _run(order, order.recover_late_payment, action=Action.ORDER_PAID_LATE)
            _after_payment(order, quantities)
    except (InsufficientStock, CouponExhausted):
        return False
    return True


@transaction.atomic
def refund_order(*, order: Order, actor=None, restock: bool = False) -> Order:
    """The order's payment is fully refunded; with `restock`, its goods go back to stock."""
    order = lock_order(order_id=order.pk)
    ensure_can(order, order.refund)
    events.publish(OrderRefunding(order=order))
    if restock:
        inventory.return_to_stock(
            quantities=order_quantities(order), actor=actor, reason=f"order {order.pk} refunded"
        )
        order.restocked = True
    _run(order, order.refund, action=Action.ORDER_REFUNDED, actor=actor, restocked=order.restocked)
    events.publish(OrderRefunded(order=order))
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
        action=Action.ORDER_FLAGGED,
        entity_type=Entity.ORDER,
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
            action=Action.STOCK_DRIFT_DETECTED,
            entity_type=Entity.INVENTORY,
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
            pending = pending_quantity(product_id=product_id)
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
