"""Serializers of the pricing API: shipping methods, tax rates, coupons."""

from decimal import Decimal

from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from core.api import RejectUnknownFieldsMixin, StrictSerializer
from core.money import MONEY
from pricing.models import Coupon, ShippingMethod, TaxRate


class CountryQuerySerializer(StrictSerializer):
    country = CountryField()


class ShippingOptionSerializer(serializers.ModelSerializer):
    """A method as customers choose it."""

    price = serializers.DecimalField(**MONEY)
    free_over = serializers.DecimalField(**MONEY, allow_null=True)

    class Meta:
        model = ShippingMethod
        fields = ["code", "name", "price", "free_over"]
        read_only_fields = fields


class ShippingMethodSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    price = serializers.DecimalField(**MONEY, min_value=Decimal("0"))
    free_over = serializers.DecimalField(
        **MONEY, min_value=Decimal("0"), required=False, allow_null=True
    )
    countries = serializers.ListField(child=CountryField(), allow_empty=False, max_length=300)
    is_active = serializers.BooleanField(required=False, default=True)

    class Meta:
        model = ShippingMethod
        fields = ["code", "name", "price", "free_over", "countries", "is_active"]

    def to_representation(self, method):
        data = super().to_representation(method)
        data["countries"] = [country.code for country in method.countries]
        return data


class TaxRateSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    country = CountryField()
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        help_text='A percentage: "19.00".',
    )

    class Meta:
        model = TaxRate
        fields = ["id", "country", "region", "rate"]
        read_only_fields = ["id"]


class CouponSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    value = serializers.DecimalField(**MONEY, min_value=Decimal("0"))
    min_subtotal = serializers.DecimalField(
        **MONEY, min_value=Decimal("0"), required=False, default=Decimal("0.00")
    )
    max_uses = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1
    )
    max_uses_per_customer = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1
    )

    class Meta:
        model = Coupon
        fields = [
            "id",
            "code",
            "kind",
            "value",
            "min_subtotal",
            "starts_at",
            "ends_at",
            "max_uses",
            "max_uses_per_customer",
            "is_active",
            "uses",
        ]
        read_only_fields = ["id", "uses"]
        # The unique Lower("code") is checked by the service (full_clean), case-blind.
        validators = []
