"""Serializers of the orders API: checkout input, the order object."""

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import BuiltOnceFieldsMixin, StrictSerializer
from core.money import MONEY
from orders.checkout import MAX_LINES, MAX_QUANTITY
from orders.models import Order, OrderItem

# --- input -------------------------------------------------------------------------------


class CheckoutLineSerializer(StrictSerializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class CheckoutSerializer(StrictSerializer):
    """`{items: [...]}` orders those lines; `{}` checks out the user's cart."""

    items = CheckoutLineSerializer(
        many=True,
        required=False,
        allow_empty=False,  # the schema says minItems: 1 (core.api.AutoSchema)
        max_length=MAX_LINES,
        error_messages={"empty": "An order needs at least one line."},
    )

    def validate_items(self, items):
        product_ids = [line["product_id"] for line in items]
        if len(set(product_ids)) != len(product_ids):
            raise serializers.ValidationError(
                "Each product may appear on one line only.", code="duplicate"
            )
        return items


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


class OrderSerializer(BuiltOnceFieldsMixin, serializers.ModelSerializer):
    """The order object. Needs `request` in the context to decide who sees client_secret."""

    subtotal = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
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
            "total",
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
