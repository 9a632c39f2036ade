"""Serializers of the orders API: checkout input, the order object."""

from dataclasses import asdict

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import BuiltOnceFieldsMixin, StrictSerializer, TextField
from core.money import MONEY
from orders.checkout import MAX_LINES, MAX_QUANTITY, Delivery
from orders.models import Order, OrderItem
from pricing.totals import Quote

# --- input -------------------------------------------------------------------------------


class CheckoutLineSerializer(StrictSerializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class CheckoutSerializer(StrictSerializer):
    """`{items: [...]}` orders those lines; without `items`, the user's cart. The address
    (one of the user's), shipping method (a code) and coupon (a code, any letter case)
    are needed as API.md "Selling physical goods" says; pricing checks them."""

    items = CheckoutLineSerializer(
        many=True,
        required=False,
        allow_empty=False,  # the schema says minItems: 1 (core.api.AutoSchema)
        max_length=MAX_LINES,
        error_messages={"empty": "An order needs at least one line."},
    )

    shipping_address_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1
    )
    shipping_method = TextField(required=False, allow_null=True, allow_blank=True, max_length=50)
    coupon = TextField(required=False, allow_null=True, allow_blank=True, max_length=50)

    def validate_items(self, items):
        product_ids = [line["product_id"] for line in items]
        if len(set(product_ids)) != len(product_ids):
            raise serializers.ValidationError(
                "Each product may appear on one line only.", code="duplicate"
            )
        return items

    def delivery(self) -> Delivery:
        data = self.validated_data
        return Delivery(
            shipping_address_id=data.get("shipping_address_id"),
            shipping_method=data.get("shipping_method") or None,
            coupon=data.get("coupon") or None,
        )

    def lines(self) -> list[tuple[int, int]] | None:
        """The lines asked for, or None for the user's cart."""
        items = self.validated_data.get("items")
        if items is None:
            return None
        return [(line["product_id"], line["quantity"]) for line in items]


class FulfilSerializer(StrictSerializer):
    """`POST orders/{id}/fulfil`: how the order ships, both optional."""

    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True)


class OrderFilterSerializer(serializers.Serializer):
    """Query parameters of the order list (other parameters, like `page`, pass through)."""

    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)


# --- output --------------------------------------------------------------------------------


class OrderItemSerializer(BuiltOnceFieldsMixin, serializers.ModelSerializer):
    unit_price = serializers.DecimalField(**MONEY)
    line_total = serializers.DecimalField(**MONEY)

    class Meta:
        model = OrderItem
        fields = ["product_id", "sku", "name", "unit_price", "quantity", "line_total"]
        read_only_fields = fields


class PaymentSerializer(serializers.Serializer):
    payment_intent_id = serializers.CharField()
    client_secret = serializers.CharField(
        allow_null=True,
        help_text="Only for the order's owner while the order is payment_pending.",
    )
    status = serializers.CharField()


class ShippingMethodRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class AddressSnapshotSerializer(serializers.Serializer):
    full_name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField(allow_blank=True)
    city = serializers.CharField()
    region = serializers.CharField(allow_blank=True)
    postal_code = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2, upper case.")
    phone = serializers.CharField(allow_blank=True)


class BreakdownSerializer(serializers.Serializer):
    subtotal = serializers.DecimalField(**MONEY)
    discount_total = serializers.DecimalField(**MONEY)
    shipping_total = serializers.DecimalField(**MONEY)
    tax_total = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)


class QuoteSerializer(BreakdownSerializer):
    currency = serializers.CharField()
    coupon = serializers.CharField(allow_null=True, help_text="The coupon's code, or null.")
    shipping_method = ShippingMethodRefSerializer(allow_null=True)

    @classmethod
    def of(cls, quote: Quote, *, currency: str) -> dict:
        """The API's quote object for a pricing.totals.Quote."""
        method = quote.shipping_method
        return cls(
            {
                **asdict(quote.totals),
                "currency": currency,
                "coupon": quote.coupon.code if quote.coupon else None,
                "shipping_method": {"code": method.code, "name": method.name} if method else None,
            }
        ).data


class OrderSerializer(BuiltOnceFieldsMixin, serializers.ModelSerializer):
    """The order object. Needs `request` in the context to decide who sees client_secret."""

    subtotal = serializers.DecimalField(**MONEY)
    discount_total = serializers.DecimalField(**MONEY)
    shipping_total = serializers.DecimalField(**MONEY)
    tax_total = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
    coupon = serializers.SerializerMethodField()
    shipping_address = AddressSnapshotSerializer(allow_null=True)
    shipping_method = ShippingMethodRefSerializer(allow_null=True)
    items = OrderItemSerializer(many=True)
    payment = serializers.SerializerMethodField()
    tracking_number = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "status",
            "currency",
            "subtotal",
            "discount_total",
            "shipping_total",
            "tax_total",
            "total",
            "coupon",
            "shipping_address",
            "shipping_method",
            "items",
            "payment",
            "tracking_number",
            "expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_tracking_number(self, order) -> str | None:
        return order.tracking_number or None

    def get_coupon(self, order) -> str | None:
        return order.coupon_code or None

    @extend_schema_field(PaymentSerializer(allow_null=True))
    def get_payment(self, order):
        try:
            payment = order.payment
        except ObjectDoesNotExist:
            return None
        request = self.context.get("request")
        show_secret = (
            request is not None
            and request.user.pk == order.user_id
            and order.status == Order.Status.PAYMENT_PENDING
        )
        return {
            "payment_intent_id": payment.stripe_payment_intent_id,
            "client_secret": (payment.client_secret or None) if show_secret else None,
            "status": payment.status,
        }
