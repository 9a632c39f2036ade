"""The totals of an order, by API.md's formulas ("Selling physical goods"): one
implementation for the quote, checkout, the pages and the emails.

`compute_totals` is the arithmetic alone (no database); `price_order` finds the
address's shipping method, tax rate and the coupon, checks them, and computes.
Prices exclude tax; every amount is a Decimal rounded half up to cents.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import ZERO, round_money
from pricing import selectors
from pricing.exceptions import (
    CouponExhausted,
    InvalidCoupon,
    ShippingRequired,
    ShippingUnavailable,
)
from pricing.models import Coupon, ShippingMethod

HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    total: Decimal


def compute_totals(
    *,
    subtotal: Decimal,
    requires_shipping: bool,
    shipping_method: ShippingMethod | None,
    coupon: Coupon | None,
    tax_rate: Decimal,
) -> Totals:
    """The breakdown of `subtotal` (the sum of line totals):

    - discount: percent `subtotal x value / 100`; fixed `min(value, subtotal)`; free
      shipping 0.00 (it makes the shipping 0.00 instead);
    - shipping: the method's price; 0.00 when no line requires shipping, when the
      subtotal (before discount) is at or above `free_over`, or with a free-shipping coupon;
    - tax: `(subtotal - discount + shipping) x tax_rate / 100`;
    - total: `subtotal - discount + shipping + tax`.
    """
    subtotal = round_money(subtotal)
    discount = ZERO
    if coupon is not None and coupon.kind == Coupon.Kind.PERCENT:
        discount = round_money(subtotal * coupon.value / HUNDRED)
    elif coupon is not None and coupon.kind == Coupon.Kind.FIXED:
        discount = min(round_money(coupon.value), subtotal)
    shipping = ZERO
    if requires_shipping and shipping_method is not None:
        free_over = shipping_method.free_over
        free = (free_over is not None and subtotal >= free_over) or (
            coupon is not None and coupon.kind == Coupon.Kind.FREE_SHIPPING
        )
        shipping = ZERO if free else round_money(shipping_method.price)
    tax = round_money((subtotal - discount + shipping) * tax_rate / HUNDRED)
    return Totals(
        subtotal=subtotal,
        discount_total=discount,
        shipping_total=shipping,
        tax_total=tax,
        total=subtotal - discount + shipping + tax,
    )


@dataclass(frozen=True)
class Quote:
    """What an order would cost, and what was applied to get there."""

    totals: Totals
    address: dict | None  # the address snapshot (shop.Address.snapshot) or None
    shipping_method: ShippingMethod | None
    coupon: Coupon | None


def price_order(
    *,
    user,
    subtotal: Decimal,
    requires_shipping: bool,
    address=None,
    shipping_method_code: str | None = None,
    coupon_code: str | None = None,
    now=None,
) -> Quote:
    """Check the delivery and the coupon for an order of `subtotal` and price it.

    `address` is one of the user's shop.Address (or None). When any line requires
    shipping, the address and an active method shipping to its country are needed;
    otherwise the method is ignored (nothing is shipped) and the address, when given,
    only decides the tax. The coupon is read without a lock: pricing.coupons.redeem
    checks its limits again under the lock when the order is placed.

    Raises ShippingRequired, ShippingUnavailable, InvalidCoupon (unknown, inactive,
    outside its dates, subtotal below its minimum) and CouponExhausted (max_uses or the
    user's max_uses_per_customer reached).
    """
    method = None
    if requires_shipping:
        if address is None or not shipping_method_code:
            raise ShippingRequired()
        method = (
            selectors.shipping_methods_for(country=address.country.code)
            .filter(code=shipping_method_code)
            .first()
        )
        if method is None:
            raise ShippingUnavailable()
    coupon = None
    if coupon_code:
        coupon = check_coupon(
            code=coupon_code, user=user, subtotal=subtotal, now=now or timezone.now()
        )
    tax_rate = (
        selectors.tax_rate_for(country=address.country.code, region=address.region)
        if address is not None
        else ZERO
    )
    totals = compute_totals(
        subtotal=subtotal,
        requires_shipping=requires_shipping,
        shipping_method=method,
        coupon=coupon,
        tax_rate=tax_rate,
    )
    return Quote(
        totals=totals,
        address=address.snapshot() if address is not None else None,
        shipping_method=method,
        coupon=coupon,
    )


def check_coupon(*, code: str, user, subtotal: Decimal, now) -> Coupon:
    """The coupon of `code` if `user` may use it on an order of `subtotal` at `now`."""
    coupon = selectors.coupon_by_code(code=code)
    if coupon is None or not coupon.is_valid_at(now):
        raise InvalidCoupon()
    if subtotal < coupon.min_subtotal:
        raise InvalidCoupon(
            _("This coupon needs a subtotal of at least %(amount)s.")
            % {"amount": coupon.min_subtotal}
        )
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        raise CouponExhausted()
    if coupon.max_uses_per_customer is not None and (
        selectors.customer_uses(coupon=coupon, user=user) >= coupon.max_uses_per_customer
    ):
        raise CouponExhausted(_("You have already used this coupon as often as it allows."))
    return coupon
