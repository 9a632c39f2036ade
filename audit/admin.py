from django.contrib import admin

from audit.models import AuditEvent
from core.admin import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit log: readable by staff, writable by nobody."""

    list_display = ["occurred_at", "action", "entity_type", "entity_id", "actor", "request_id"]
    list_filter = ["entity_type", "action"]
    search_fields = ["entity_id", "request_id", "actor__email"]
    list_select_related = ["actor"]
    date_hierarchy = "occurred_at"
