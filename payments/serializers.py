"""Serializers of the payments API: pay and refund input (the answer is the order object)."""

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


class PaySerializer(StrictSerializer):
    method = serializers.ChoiceField(
        choices=["card", "wallet"],
        required=False,
        default="card",
        help_text=(
            "`card` (default): the order's PaymentIntent, for the customer to confirm. "
            "`wallet`: pay the total from the wallet balance at once."
        ),
    )
