"""Coupon uses: taken in the checkout transaction, given back once by an order that
ends unpaid. The only code that changes `Coupon.uses`.

Both run inside the caller's transaction, after the caller locked the order row (or
inserted the order) and before it locks inventory rows: the global lock order is the
order row, wallet rows, the coupon row, inventory rows by product id. Under the coupon's
row lock the counts cannot change underneath, so however many checkouts race, a coupon
is used at most `max_uses` times and a customer at most `max_uses_per_customer` times.
"""

from django.db.models import F

from audit.actions import Action, Entity
from audit.services import record
from pricing.exceptions import CouponExhausted
from pricing.models import Coupon, CouponUse
from pricing.selectors import customer_uses


def redeem(*, coupon_id: int, user, order_id) -> Coupon:
    """Take one use of the coupon for the order `order_id` of `user`.

    Raises CouponExhausted (the caller's transaction then rolls back the order) when
    `max_uses` or the user's `max_uses_per_customer` is reached.
    """
    coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        raise CouponExhausted()
    if coupon.max_uses_per_customer is not None and (
        customer_uses(coupon=coupon, user=user) >= coupon.max_uses_per_customer
    ):
        raise CouponExhausted()
    CouponUse.objects.create(coupon=coupon, user=user, order_id=order_id)
    Coupon.objects.filter(pk=coupon.pk).update(uses=F("uses") + 1)
    coupon.uses += 1
    record(
        action=Action.COUPON_USED,
        entity_type=Entity.COUPON,
        entity_id=coupon.pk,
        actor=user,
        before={"uses": coupon.uses - 1},
        after={"uses": coupon.uses, "order_id": str(order_id)},
    )
    return coupon


def give_back(*, order_id, actor=None) -> bool:
    """The order `order_id` ended before it was paid: its coupon use, if it holds one,
    returns to the coupon. Returns whether there was one.

    Exactly once per order: the use row is deleted under the coupon's lock, so a second
    call (a racing cancel and expiry that both got here) finds nothing to give back.
    """
    coupon_id = CouponUse.objects.filter(order_id=order_id).values_list("coupon_id", flat=True)
    coupon_id = coupon_id.first()
    if coupon_id is None:
        return False
    coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
    deleted, _ = CouponUse.objects.filter(order_id=order_id).delete()
    if not deleted:
        return False
    Coupon.objects.filter(pk=coupon.pk).update(uses=F("uses") - 1)
    record(
        action=Action.COUPON_RELEASED,
        entity_type=Entity.COUPON,
        entity_id=coupon.pk,
        actor=actor,
        before={"uses": coupon.uses},
        after={"uses": coupon.uses - 1, "order_id": str(order_id)},
    )
    return True
