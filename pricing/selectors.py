"""Reads of shipping methods, tax rates and coupons."""

from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet

from pricing.models import Coupon, CouponUse, ShippingMethod, TaxRate

NO_TAX = Decimal("0.00")


def shipping_methods_for(*, country: str) -> QuerySet[ShippingMethod]:
    """Active methods that ship to `country` (ISO alpha-2, any case), cheapest first."""
    return ShippingMethod.objects.filter(is_active=True, countries__contains=country.upper())


def tax_rate_for(*, country: str, region: str = "") -> Decimal:
    """The percentage for (country, region), else (country, no region), else 0."""
    rates = {
        rate.region.lower(): rate.rate
        for rate in TaxRate.objects.filter(country=country.upper()).only("region", "rate")
    }
    region = region.strip().lower()
    if region and region in rates:
        return rates[region]
    return rates.get("", NO_TAX)


def coupon_by_code(*, code: str) -> Coupon | None:
    """The coupon with this code, ignoring letter case (the unique Lower("code"))."""
    return Coupon.objects.filter(code__iexact=code.strip()).first()


def customer_uses(*, coupon: Coupon, user) -> int:
    """Orders of `user` holding a use of `coupon` now."""
    return CouponUse.objects.filter(coupon=coupon, user=user).count()


def coupon_use_order_ids() -> QuerySet:
    """The ids of the orders holding a coupon use (a subquery)."""
    return CouponUse.objects.values("order_id")


def coupon_discrepancies() -> list[dict]:
    """Limited coupons whose `uses` differs from their use rows, and coupons with more
    uses than `max_uses`: one query. (An unlimited coupon keeps no count:
    pricing.coupons.)"""
    limited = Q(max_uses__isnull=False) | Q(max_uses_per_customer__isnull=False)
    rows = (
        Coupon.objects.annotate(rows=Count("use_rows"))
        .filter((limited & ~Q(uses=F("rows"))) | Q(max_uses__isnull=False, rows__gt=F("max_uses")))
        .values("pk", "code", "uses", "rows", "max_uses")
    )
    return [{**row, "broken": ["coupon uses != its use rows, or above max_uses"]} for row in rows]
