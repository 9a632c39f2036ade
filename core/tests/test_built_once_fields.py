"""core.api.BuiltOnceFieldsMixin: a ModelSerializer's fields worked out once per class,
copied for every instance, answering exactly what the plain ModelSerializer answers."""

from decimal import Decimal
from unittest import mock

from rest_framework import serializers

from core.api import BuiltOnceFieldsMixin
from orders.models import OrderItem
from orders.serializers import OrderItemSerializer


class PlainItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = OrderItemSerializer.Meta.fields


class ItemSerializer(BuiltOnceFieldsMixin, PlainItemSerializer):
    pass


def test_fields_are_built_once_and_copied_for_each_instance():
    item = OrderItem(
        product_id=7,
        sku="SKU-7",
        name="Seven",
        unit_price=Decimal("2.50"),
        quantity=3,
        line_total=Decimal("7.50"),
    )
    built = mock.patch.object(
        serializers.ModelSerializer,
        "get_fields",
        autospec=True,
        side_effect=serializers.ModelSerializer.get_fields,
    )
    with built as get_fields:
        first, second = ItemSerializer(item), ItemSerializer(item)
        answers = [first.data, second.data]

    assert get_fields.call_count == 1
    assert answers == [PlainItemSerializer(item).data] * 2
    assert first.fields["sku"] is not second.fields["sku"]
    assert first.fields["sku"].parent is first and second.fields["sku"].parent is second
