"""Serializers of the payments API: refund input (the answer is the order object)."""

from decimal import Decimal

from rest_framework import serializers

from core.api import StrictSerializer
from core.money import MONEY


class RefundSerializer(StrictSerializer):
    amount = serializers.DecimalField(
        **MONEY,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Omit to refund everything that is left.",
    )
    restock = serializers.BooleanField(
        required=False, default=False, help_text="Put the goods back in stock (full refund)."
    )
