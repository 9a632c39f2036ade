"""Serializers of the audit log API."""

from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.EmailField(
        source="actor.email",
        allow_null=True,
        default=None,
        help_text="The email of the user who made the change; null for the system.",
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor",
            "action",
            "entity_type",
            "entity_id",
            "before",
            "after",
        ]
        read_only_fields = fields


class AuditFilterSerializer(serializers.Serializer):
    entity_type = serializers.CharField(required=False, max_length=64)
    entity_id = serializers.CharField(required=False, max_length=64)
    action = serializers.CharField(required=False, max_length=64)
