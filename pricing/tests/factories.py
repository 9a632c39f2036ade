from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from pricing.models import Coupon, ShippingMethod, TaxRate


class ShippingMethodFactory(DjangoModelFactory):
    class Meta:
        model = ShippingMethod

    code = factory.Sequence(lambda n: f"ship-{n}")
    name = factory.Sequence(lambda n: f"Parcel {n}")
    price = Decimal("4.90")
    countries = ["DE", "AT"]


class TaxRateFactory(DjangoModelFactory):
    class Meta:
        model = TaxRate

    country = "DE"
    rate = Decimal("19.00")


class CouponFactory(DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"SAVE{n}")
    kind = Coupon.Kind.PERCENT
    value = Decimal("10.00")


def coupon_admin_form(**fields) -> dict:
    """What the admin's coupon page posts for a fixed 6.00 coupon "SPRING" limited to 3
    uses (no use rows); `fields` override."""
    return {
        "code": "SPRING",
        "kind": "fixed",
        "value": "6.00",
        "min_subtotal": "0.00",
        "max_uses": "3",
        "is_active": "on",
        "use_rows-TOTAL_FORMS": "0",
        "use_rows-INITIAL_FORMS": "0",
        **fields,
    }
