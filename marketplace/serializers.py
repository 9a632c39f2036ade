"""Serializers of the merchant API. Input: the shop's own product serializers (the same
rules as staff's); output: the product object plus `reserved`, and sale lines."""

from rest_framework import serializers

from core.money import MONEY
from shop.models import Inventory
from shop.serializers import ProductSerializer


class MerchantProductSerializer(ProductSerializer):
    reserved = serializers.SerializerMethodField()

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "reserved"]
        read_only_fields = fields

    def get_reserved(self, product) -> int:
        try:
            return product.inventory.reserved
        except Inventory.DoesNotExist:
            return 0


class SaleSerializer(serializers.Serializer):
    """A line of a paid, fulfilled or refunded order (marketplace.selectors.with_fees)."""

    order_id = serializers.UUIDField()
    order_status = serializers.CharField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(**MONEY)
    line_total = serializers.DecimalField(**MONEY)
    fee = serializers.DecimalField(**MONEY, help_text="The shop's fee on this line.")
    net = serializers.DecimalField(**MONEY, help_text="line_total - fee: the merchant's share.")
    created_at = serializers.DateTimeField(help_text="When the order was placed.")
