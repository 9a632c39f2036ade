"""Admin bases shared by the apps.

Every admin action declares the permissions it needs (`@admin.action(permissions=[...])`);
Django offers an action only to staff who pass each `has_<name>_permission` check, and
refuses it otherwise. `requires_permission` makes such a check from the Django model
permission that API.md names for the same change. config/tests/test_staff_permissions.py
walks every registered ModelAdmin and fails for an action a view-only member could run.
"""

from django.contrib import admin
from django.template.response import TemplateResponse


def requires_permission(permission: str):
    """A `has_<name>_permission` method: the user holds `permission` ("app_label.codename";
    superusers hold all). E.g. `has_refund_permission = requires_permission("payments.add_refund")`
    for `@admin.action(permissions=["refund"])`."""

    def check(self, request, obj=None) -> bool:
        return request.user.has_perm(permission)

    check.permission = permission  # for the permission test and for readers
    return check


class ReadOnlyAdminMixin:
    """For records only services write (audit events, payments, webhook events, order
    lines and emails, stock counters): staff with the view permission read them, nobody
    adds, changes or deletes them in the admin, so no Save or Delete button shows.

    Admin actions stay available; each declares the permission it needs (not "change":
    nobody has that here).
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


def confirmed(request) -> bool:
    """Whether the staff member answered the confirmation page (`confirm_action`) with yes."""
    return request.method == "POST" and request.POST.get("confirm") == "yes"


def confirm_action(
    request,
    model_admin,
    *,
    title: str,
    question: str,
    action_url: str,
    back_url: str,
    confirm_label: str,
    details=(),
    objects=(),
    hidden=(),
) -> TemplateResponse:
    """The intermediate page of an irreversible admin action (cancel, refund), as Django's
    delete confirmation: it says what will happen and posts `hidden` fields plus
    confirm=yes back to `action_url`, which checks `confirmed(request)`."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "question": question,
        "details": list(details),
        "objects": list(objects),
        "hidden": list(hidden),
        "action_url": action_url,
        "back_url": back_url,
        "confirm_label": confirm_label,
    }
    return TemplateResponse(request, "admin/confirm_action.html", context)
