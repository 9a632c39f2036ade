"""Merchants in the admin: applications are made by the users themselves (read-only
here); staff holding `merchants.change_merchant` approve them with the action, which
goes through merchants.services (audited)."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin import ReadOnlyAdminMixin, requires_permission
from core.exceptions import ShopError
from merchants import services
from merchants.models import Merchant


@admin.register(Merchant)
class MerchantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["display_name", "user", "status", "created_at", "approved_at"]
    list_filter = ["status"]
    search_fields = ["display_name", "user__email"]
    list_select_related = ["user"]
    actions = ["approve_selected"]

    has_approve_permission = requires_permission("merchants.change_merchant")

    @admin.action(description=gettext_lazy("Approve selected merchants"), permissions=["approve"])
    def approve_selected(self, request, queryset):
        for merchant in queryset:
            try:
                services.approve_merchant(merchant=merchant, actor=request.user)
            except ShopError as exc:
                self.message_user(request, f"{merchant}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(merchant)s: approved.") % {"merchant": merchant},
                    messages.SUCCESS,
                )
