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
