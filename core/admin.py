"""Admin bases shared by the apps."""

from django.contrib import admin


class ReadOnlyAdminMixin:
    """For records only services write (audit events, payments, webhook events, order
    lines and emails, stock counters): staff with the view permission read them, nobody
    adds, changes or deletes them in the admin, so no Save or Delete button shows.

    Admin actions stay available; each declares the permission it needs.
    """

    def get_readonly_fields(self, request, obj=None):
        # Every field shown; the admin insists that non-editable ones (timestamps) be
        # named here even when nothing can be changed.
        hidden = set(self.exclude or ())
        shown = self.fields or [f.name for f in self.model._meta.fields if f.name not in hidden]
        return [*super().get_readonly_fields(request, obj), *shown]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0


class ReadOnlyStackedInline(ReadOnlyAdminMixin, admin.StackedInline):
    extra = 0
