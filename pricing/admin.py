"""Staff edit shipping methods, tax rates and coupons here (model validation applies);
a coupon's uses are counted by checkout (pricing.coupons) and only shown."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyTabularInline
from pricing.models import Coupon, CouponUse, ShippingMethod, TaxRate


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "price", "free_over", "country_codes", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]

    @admin.display(description=_("countries"))
    def country_codes(self, method):
        return ", ".join(country.code for country in method.countries)


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["country", "region", "rate"]
    list_filter = ["country"]


class CouponUseInline(ReadOnlyTabularInline):
    """The orders holding a use now (an order that ended unpaid gave its use back)."""

    model = CouponUse
    fields = ["order_id", "user", "created_at"]
    verbose_name = _("use")
    verbose_name_plural = _("uses held by orders")


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "kind",
        "value",
        "uses",
        "max_uses",
        "max_uses_per_customer",
        "starts_at",
        "ends_at",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["code"]
    readonly_fields = ["uses", "created_at"]
    inlines = [CouponUseInline]

    def has_delete_permission(self, request, obj=None):
        # A coupon orders have used stays (their snapshots name it); deactivate it instead.
        if obj is not None and obj.uses:
            return False
        return super().has_delete_permission(request, obj)
