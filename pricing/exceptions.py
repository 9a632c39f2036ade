"""Errors of shipping, tax and coupons (on core.exceptions.ShopError)."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ShopError


class ShippingRequired(ShopError):
    code = "shipping_required"
    default_detail = _("These items are shipped: choose a delivery address and a shipping method.")


class ShippingUnavailable(ShopError):
    code = "shipping_unavailable"
    default_detail = _("This shipping method does not deliver to that country.")


class InvalidCoupon(ShopError):
    code = "invalid_coupon"
    default_detail = _("This coupon code is not valid.")


class CouponExhausted(ShopError):
    code = "coupon_exhausted"
    default_detail = _("This coupon has been used up.")
