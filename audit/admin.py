from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log: readable by staff, writable by nobody."""

    list_display = ["occurred_at", "action", "entity_type", "entity_id", "actor", "request_id"]
    list_filter = ["entity_type", "action"]
    search_fields = ["entity_id", "request_id", "actor__email"]
    list_select_related = ["actor"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
