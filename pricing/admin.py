"""Staff edit shipping methods, tax rates and coupons here (model validation applies),
saved and deleted through pricing.services so every change is audited; a coupon's uses
are counted by checkout (pricing.coupons) and only shown."""

from django.contrib import admin
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyTabularInline
from pricing import services
from pricing.models import Coupon, CouponUse, ShippingMethod, TaxRate


class PricingRuleAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        if change:
            services.update_pricing_rule(rule=obj, actor=request.user, fields=form.changed_data)
        else:
            services.create_pricing_rule(rule=obj, actor=request.user)

    def delete_model(self, request, obj):
        services.delete_pricing_rule(rule=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        # The changelist's "delete selected": one audited deletion each, in one transaction.
        with transaction.atomic():
            for rule in queryset:
                services.delete_pricing_rule(rule=rule, actor=request.user)


@admin.register(ShippingMethod)
class ShippingMethodAdmin(PricingRuleAdmin):
    list_display = ["code", "name", "price", "free_over", "country_codes", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]

    @admin.display(description=_("countries"))
    def country_codes(self, method):
        return ", ".join(country.code for country in method.countries)


@admin.register(TaxRate)
class TaxRateAdmin(PricingRuleAdmin):
    list_display = ["country", "region", "rate"]
    list_filter = ["country"]


class CouponUseInline(ReadOnlyTabularInline):
    """The orders holding a use now (an order that ended unpaid gave its use back)."""

    model = CouponUse
    fields = ["order_id", "user", "created_at"]
    verbose_name = _("use")
    verbose_name_plural = _("uses held by orders")


@admin.register(Coupon)
class CouponAdmin(PricingRuleAdmin):
    list_display = [
        "code",
        "kind",
        "value",
        "uses_held",
        "max_uses",
        "max_uses_per_customer",
        "starts_at",
        "ends_at",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["code"]
    readonly_fields = ["uses_held", "created_at"]
    inlines = [CouponUseInline]

    def get_queryset(self, request):
        # Counted from the use rows: an unlimited coupon keeps no count (pricing.coupons).
        return super().get_queryset(request).annotate(held=Count("use_rows"))

    @admin.display(description=_("uses"), ordering="held")
    def uses_held(self, coupon):
        return coupon.held

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            # A lowered max_uses is checked against the uses there are, on the form.
            obj.uses = obj.held
        return form

    def has_delete_permission(self, request, obj=None):
        # A coupon orders have used stays (their snapshots name it); deactivate it instead.
        if obj is not None and getattr(obj, "held", obj.uses):
            return False
        return super().has_delete_permission(request, obj)
