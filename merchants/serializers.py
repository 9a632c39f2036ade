"""Serializers of the merchant application API."""

from rest_framework import serializers

from core.api import StrictSerializer, TextField
from merchants.models import Merchant


class MerchantApplySerializer(StrictSerializer):
    # Untrimmed here, so the schema's maxLength holds for what is sent; the service trims.
    display_name = TextField(
        max_length=Merchant._meta.get_field("display_name").max_length, trim_whitespace=False
    )


class MerchantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Merchant
        fields = ["id", "display_name", "status"]
        read_only_fields = fields
