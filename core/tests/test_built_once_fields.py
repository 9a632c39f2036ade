"""core.api.BuiltOnceFieldsMixin: a ModelSerializer's fields worked out once per class,
copied for every instance, answering exactly what the plain ModelSerializer answers."""

from unittest import mock

from django.contrib.auth.models import Group
from rest_framework import serializers

from core.api import BuiltOnceFieldsMixin


class PlainGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ["id", "name"]
        read_only_fields = fields


class GroupSerializer(BuiltOnceFieldsMixin, PlainGroupSerializer):
    pass


def test_fields_are_built_once_and_copied_for_each_instance():
    group = Group(id=7, name="Seven")
    built = mock.patch.object(
        serializers.ModelSerializer,
        "get_fields",
        autospec=True,
        side_effect=serializers.ModelSerializer.get_fields,
    )
    with built as get_fields:
        first, second = GroupSerializer(group), GroupSerializer(group)
        answers = [first.data, second.data]

    assert get_fields.call_count == 1
    assert answers == [PlainGroupSerializer(group).data] * 2 == [{"id": 7, "name": "Seven"}] * 2
    assert first.fields["name"] is not second.fields["name"]
    assert first.fields["name"].parent is first and second.fields["name"].parent is second
