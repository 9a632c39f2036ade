from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from core.admin import ReadOnlyStackedInline, requires_permission
from core.exceptions import ShopError
from shop import inventory
from shop.models import Address, Inventory, Product, User
from shop.services import EDITABLE_FIELDS, create_product, update_product


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "date_joined"]
    search_fields = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


# django-axes' sign-in failures (config.security), with its one action given the permission
# it needs: it deletes attempts, so the delete permission.
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        super().cleanup_expired_attempts(request, queryset)


class InventoryInline(ReadOnlyStackedInline):
    """Stock moves only through shop.inventory (the restock action, the API's adjust)."""

    model = Inventory
    fields = ["available", "reserved", "received", "updated_at"]


class StockActionForm(ActionForm):
    quantity = forms.IntegerField(required=False, min_value=1, help_text="Units to restock")


class ProductForm(forms.ModelForm):
    initial_stock = forms.IntegerField(min_value=0, initial=0, required=False)

    class Meta:
        model = Product
        fields = ["sku", "name", "description", "price", "is_active", "requires_shipping"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    inlines = [InventoryInline]
    list_display = ["sku", "name", "price", "is_active", "stock_available", "stock_reserved"]
    list_filter = ["is_active"]
    search_fields = ["sku", "name"]
    list_select_related = ["inventory"]
    action_form = StockActionForm
    actions = ["restock"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "sku",
                "name",
                "description",
                "price",
                "is_active",
                "requires_shipping",
                "initial_stock",
            ]
        return ["sku", "slug", "name", "description", "price", "is_active", "requires_shipping"]

    def get_readonly_fields(self, request, obj=None):
        return ["sku", "slug"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # orders point at products: deactivate instead

    @admin.display(description="available")
    def stock_available(self, obj):
        return obj.inventory.available

    @admin.display(description="reserved")
    def stock_reserved(self, obj):
        return obj.inventory.reserved

    def save_model(self, request, obj, form, change):
        # Saving goes through the services so it is validated the same way and audited.
        if change:
            changes = {f: form.cleaned_data[f] for f in EDITABLE_FIELDS if f in form.changed_data}
            if changes:
                update_product(product=obj, actor=request.user, **changes)
        else:
            created = create_product(
                sku=obj.sku,
                name=obj.name,
                description=obj.description,
                price=obj.price,
                is_active=obj.is_active,
                requires_shipping=obj.requires_shipping,
                initial_stock=form.cleaned_data.get("initial_stock") or 0,
                actor=request.user,
            )
            obj.pk = created.pk

    # Stock is Inventory's: the same permission as POST inventory/{id}/adjust.
    has_restock_permission = requires_permission("shop.change_inventory")

    @admin.action(
        description="Restock selected products by the quantity given", permissions=["restock"]
    )
    def restock(self, request, queryset):
        quantity = request.POST.get("quantity")
        if not quantity or not quantity.isdigit() or int(quantity) < 1:
            self.message_user(request, "Enter a positive quantity to restock.", messages.ERROR)
            return
        for product in queryset:
            try:
                inventory.restock(
                    product_id=product.pk,
                    quantity=int(quantity),
                    actor=request.user,
                    reason="restock from admin",
                )
            except ShopError as exc:
                self.message_user(request, f"{product}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{product}: {quantity} unit(s) added.", messages.SUCCESS
                )


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    """Customers' address books (orders keep their own copy)."""

    list_display = ["full_name", "user", "city", "postal_code", "country"]
    list_filter = ["country"]
    search_fields = ["full_name", "user__email", "city", "postal_code"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
