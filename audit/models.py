from django.conf import settings
from django.db import models

from audit.actions import Action, Entity


class AuditEvent(models.Model):
    """One recorded change. Rows are never updated or deleted (a database trigger enforces it)."""

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: a user who appears in the audit log is deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for changes made by the system.",
    )
    action = models.CharField(max_length=64, choices=Action.choices, db_index=True)
    entity_type = models.CharField(max_length=64, choices=Entity.choices)
    entity_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["entity_type", "entity_id"], name="audit_entity_idx")]

    def __str__(self):
        return f"{self.action} {self.entity_type}:{self.entity_id}"
