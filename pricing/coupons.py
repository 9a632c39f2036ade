"""Coupon uses: taken in the checkout transaction, given back once by an order that
ends unpaid. The only code that changes `Coupon.uses`.

Both run inside the caller's transaction, after the caller locked the order row (or
inserted the order) and before it locks inventory rows: the global lock order is the
order row, wallet rows, the coupon row, inventory rows by product id.

A limited coupon's row is locked FOR UPDATE: under that lock its counts cannot change
underneath, so however many checkouts race, it is used at most `max_uses` times and by
a customer at most `max_uses_per_customer` times, and `uses` is kept. An unlimited
coupon's row is only locked FOR KEY SHARE, which checkouts hold side by side: a
sitewide code does not make every checkout wait for the one before. Staff limiting it
lock it FOR UPDATE (pricing.services), wait for those checkouts, and count its uses
afresh; a checkout that finds it limited once locked takes the FOR UPDATE path instead.
"""

from django.db import connection, transaction

from audit.actions import Action, Entity
from audit.services import record
from pricing.exceptions import CouponExhausted
from pricing.models import Coupon, CouponUse
from pricing.selectors import customer_uses


def redeem(*, coupon: Coupon, user, order_id) -> Coupon:
    """Take one use of `coupon` (as read before any lock) for the order `order_id` of
    `user`.

    Raises CouponExhausted (the caller's transaction then rolls back the order) when
    `max_uses` or the user's `max_uses_per_customer` is reached.
    """
    coupon = _lock(coupon_id=coupon.pk, limited=coupon.is_limited)
    if coupon.is_limited:
        if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
            raise CouponExhausted()
        if coupon.max_uses_per_customer is not None and (
            customer_uses(coupon=coupon, user=user) >= coupon.max_uses_per_customer
        ):
            raise CouponExhausted()
    CouponUse.objects.create(coupon=coupon, user=user, order_id=order_id)
    before, after = _count(coupon, 1)
    record(
        action=Action.COUPON_USED,
        entity_type=Entity.COUPON,
        entity_id=coupon.pk,
        actor=user,
        before=before,
        after={**after, "order_id": str(order_id)},
    )
    return coupon


def give_back(*, order_id, actor=None) -> bool:
    """The order `order_id` ended before it was paid: its coupon use, if it holds one,
    returns to the coupon. Returns whether there was one.

    Exactly once per order: the use row is deleted under the coupon's lock, so a second
    call (a racing cancel and expiry that both got here) finds nothing to give back.
    """
    use = CouponUse.objects.filter(order_id=order_id).select_related("coupon").first()
    if use is None:
        return False
    coupon = _lock(coupon_id=use.coupon_id, limited=use.coupon.is_limited)
    deleted, _ = CouponUse.objects.filter(order_id=order_id).delete()
    if not deleted:
        return False
    before, after = _count(coupon, -1)
    record(
        action=Action.COUPON_RELEASED,
        entity_type=Entity.COUPON,
        entity_id=coupon.pk,
        actor=actor,
        before=before,
        after={**after, "order_id": str(order_id)},
    )
    return True


class _NowLimited(Exception):
    pass


def _lock(*, coupon_id: int, limited: bool) -> Coupon:
    """The coupon re-read under its lock: FOR KEY SHARE when it was unlimited and still
    is once locked, else FOR UPDATE. `limited` is what an earlier read said."""
    if not limited:
        try:
            # A savepoint: rolling it back drops the shared lock before FOR UPDATE is
            # asked for (holding both could deadlock with another checkout doing so).
            with transaction.atomic():
                coupon = _key_share(coupon_id)
                if coupon.is_limited:  # staff limited it meanwhile
                    raise _NowLimited()
                return coupon
        except _NowLimited:
            pass
    return Coupon.objects.select_for_update().get(pk=coupon_id)


def _key_share(coupon_id: int) -> Coupon:
    # The ORM has FOR UPDATE, FOR NO KEY UPDATE and FOR SHARE, not FOR KEY SHARE, the
    # weakest lock: it conflicts only with FOR UPDATE (and deleting the row). Other
    # databases (SQLite, `make run`) have no row locks: one writer at a time anyway.
    if connection.vendor != "postgresql":
        return Coupon.objects.get(pk=coupon_id)
    table = Coupon._meta.db_table
    query = f'SELECT * FROM "{table}" WHERE "id" = %s FOR KEY SHARE'  # noqa: S608 - our table
    return Coupon.objects.raw(query, [coupon_id])[0]


def _count(coupon: Coupon, delta: int) -> tuple[dict | None, dict]:
    """Move a limited coupon's `uses` by `delta` (under its FOR UPDATE lock); what the
    audit event says before and after. An unlimited coupon's use rows are its count."""
    if not coupon.is_limited:
        return None, {}
    Coupon.objects.filter(pk=coupon.pk).update(uses=coupon.uses + delta)
    coupon.uses += delta
    return {"uses": coupon.uses - delta}, {"uses": coupon.uses}
