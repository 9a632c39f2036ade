from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from core.admin import ReadOnlyStackedInline, requires_permission
from core.exceptions import ShopError
from shop import images, inventory, variants
from shop.models import Address, Category, Inventory, Product, ProductImage, User
from shop.services import EDITABLE_FIELDS, create_product, update_product


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_guest", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_guest", *BaseUserAdmin.list_filter]
    search_fields = ["email"]
    # A guest becomes a full account only by setting a password (shop.services).
    readonly_fields = ["is_guest"]
    fieldsets = [
        (None, {"fields": ["email", "password", "is_guest"]}),
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


@admin.register(Category)
class CategoryAdmin(TreeAdmin):
    """The tree, with treebeard's drag-and-drop and "position" fields to move a node;
    changing a category moves no stock or money, so it is plain admin editing."""

    form = movenodeform_factory(Category, fields=["name", "slug", "description"])
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class InventoryInline(ReadOnlyStackedInline):
    """Stock moves only through shop.inventory (the restock action, the API's adjust)."""

    model = Inventory
    fields = ["available", "reserved", "received", "updated_at"]


class ProductImageInline(admin.TabularInline):
    """Pictures, uploaded here: shop.validators refuses anything but a JPEG, PNG or WebP
    image within the size limits, with the reason next to the file."""

    model = ProductImage
    fields = ["image", "alt", "position"]
    extra = 1


class StockActionForm(ActionForm):
    quantity = forms.IntegerField(required=False, min_value=1, help_text="Units to restock")


class ProductForm(forms.ModelForm):
    """A product's page. On the add page staff choose the structure: a standalone
    product (price and initial stock) or a parent with options (its variants have the
    prices and the stock, added on its page once it exists)."""

    structure = forms.ChoiceField(
        label=_("Structure"),
        choices=[
            (Product.Structure.STANDALONE, _("Stand-alone product")),
            (Product.Structure.PARENT, _("Parent product with variants (sizes, colours...)")),
        ],
        initial=Product.Structure.STANDALONE,
        required=False,  # only on the add page; absent: the product keeps its own
    )
    # Named like the model fields, so that Product.clean's errors land next to them.
    option_names = forms.CharField(
        label=_("Options"),
        required=False,
        help_text=_("A parent product's options, separated by commas: Size, Colour."),
    )
    initial_stock = forms.IntegerField(min_value=0, initial=0, required=False)

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "description",
            "price",
            "is_active",
            "requires_shipping",
            "categories",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "price" in self.fields:
            self.fields["price"].required = False  # a parent's comes from its variants

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("structure") == Product.Structure.PARENT:
            text = cleaned.get("option_names") or ""
            names = [n.strip() for n in text.split(",") if n.strip()]
            if not names:
                self.add_error("option_names", _("Name the options, e.g. Size, Colour."))
            if cleaned.get("initial_stock"):
                self.add_error(
                    "initial_stock", _("A parent product has no stock: its variants do.")
                )
            cleaned["option_names"] = self.instance.option_names = names
        else:
            cleaned["option_names"] = []
            if "price" in self.fields and cleaned.get("price") is None:
                self.add_error("price", _("This field is required."))
        return cleaned


class VariantForm(forms.ModelForm):
    """One variant on its parent's page: its values of the parent's options ("M / Blue"),
    SKU, price and, when new, its initial stock. Existing variants' values stay as they
    are (orders snapshot the name made from them); their price and visibility change."""

    options = forms.CharField(
        label=_("Values"),
        help_text=_("In the order of the options, separated by /: M / Blue."),
    )
    initial_stock = forms.IntegerField(
        label=_("Initial stock"), min_value=0, initial=0, required=False
    )

    class Meta:
        model = Product
        fields = ["sku", "price", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.structure = Product.Structure.CHILD
        if self.instance.pk:
            self.initial["options"] = self.instance.option_label
            self.fields["options"].disabled = True
            self.fields["sku"].disabled = True
            self.fields["initial_stock"].disabled = True

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None:
            cleaned["options"] = self.instance.options  # shown, never changed here
        elif cleaned.get("options"):
            names = self.instance.parent.option_names
            values = [v.strip() for v in cleaned["options"].split("/")]
            if len(values) != len(names) or not all(values):
                self.add_error(
                    "options",
                    _("Give one value for each of %(names)s, separated by /.")
                    % {"names": ", ".join(names)},
                )
            else:
                # Product.clean (run next, by the model form) checks them against the
                # parent's options and the other variants.
                cleaned["options"] = self.instance.options = dict(zip(names, values, strict=True))
        return cleaned

    def _post_clean(self):
        if self.has_error("options"):
            return  # the values are wrong already: the model's check would say it again
        super()._post_clean()


class VariantInline(admin.TabularInline):
    """A parent's variants, each a product of its own (SKU, price, stock) created and
    changed through the services like any product (ProductAdmin.save_formset)."""

    model = Product
    fk_name = "parent"
    form = VariantForm
    fields = ["options", "sku", "price", "is_active", "initial_stock", "stock_available"]
    readonly_fields = ["stock_available"]
    ordering = ["id"]  # as the product page lists them
    extra = 1
    verbose_name = _("variant")
    verbose_name_plural = _("variants")

    def has_delete_permission(self, request, obj=None):
        return False  # orders point at variants: deactivate instead

    @admin.display(description=_("available"))
    def stock_available(self, obj):
        return obj.units_available() if obj.pk else "-"


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    list_display = [
        "sku",
        "name",
        "structure",
        "price",
        "is_active",
        "seller",
        "stock_available",
        "stock_reserved",
    ]
    list_filter = ["is_active", "structure", "categories", ("merchant", admin.EmptyFieldListFilter)]
    search_fields = ["sku", "name", "merchant__display_name"]
    filter_horizontal = ["categories"]
    list_select_related = ["inventory", "merchant"]
    action_form = StockActionForm
    actions = ["restock"]

    def get_inlines(self, request, obj):
        if obj is not None and obj.is_parent:
            return [ProductImageInline, VariantInline]
        if obj is not None and obj.is_child:
            return [InventoryInline]  # its pictures are its parent's
        return [InventoryInline, ProductImageInline]

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "structure",
                "sku",
                "name",
                "description",
                "price",
                "is_active",
                "categories",
                "requires_shipping",
                "initial_stock",
                "option_names",
            ]
        if obj.is_parent:
            return [
                "sku",
                "slug",
                "merchant",
                "option_names",
                "name",
                "description",
                "price",
                "is_active",
                "requires_shipping",
                "categories",
            ]
        if obj.is_child:
            return [
                "sku",
                "slug",
                "merchant",
                "parent",
                "options",
                "name",
                "price",
                "is_active",
                "requires_shipping",
            ]
        return [
            "sku",
            "slug",
            "merchant",
            "name",
            "description",
            "price",
            "is_active",
            "requires_shipping",
            "categories",
        ]

    def get_readonly_fields(self, request, obj=None):
        # Whose a product is, is set when it is made (staff: the shop's; a merchant:
        # theirs) and never changes: their sales and earnings follow it.
        if obj is None:
            return []
        if obj.is_parent:  # its price is its cheapest variant's
            return ["sku", "slug", "merchant", "option_names", "price"]
        if obj.is_child:  # its name is made from its parent's and its values
            return ["sku", "slug", "merchant", "parent", "options", "name"]
        return ["sku", "slug", "merchant"]

    @admin.display(description=_("sold by"), ordering="merchant__display_name")
    def seller(self, obj):
        return obj.merchant or _("the shop")

    def has_delete_permission(self, request, obj=None):
        return False  # orders point at products: deactivate instead

    @admin.display(description="available")
    def stock_available(self, obj):
        return "-" if obj.is_parent else obj.inventory.available

    @admin.display(description="reserved")
    def stock_reserved(self, obj):
        return "-" if obj.is_parent else obj.inventory.reserved

    def save_model(self, request, obj, form, change):
        # Saving goes through the services so it is validated the same way and audited.
        if change:
            changes = {f: form.cleaned_data[f] for f in EDITABLE_FIELDS if f in form.changed_data}
            if changes:
                update_product(product=obj, actor=request.user, **changes)
        elif form.cleaned_data["structure"] == Product.Structure.PARENT:
            created = variants.create_parent_product(
                sku=obj.sku,
                name=obj.name,
                description=obj.description,
                option_names=form.cleaned_data["option_names"],
                is_active=obj.is_active,
                requires_shipping=obj.requires_shipping,
                actor=request.user,
            )
            obj.pk = created.pk
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

    def save_formset(self, request, form, formset, change):
        if formset.model is Product:
            self._save_variants(request, parent=form.instance, formset=formset)
            return
        super().save_formset(request, form, formset, change)
        if formset.model is ProductImage:
            for image_form in formset.forms:
                if image_form.instance.pk and "image" in image_form.changed_data:
                    images.render_thumbnails(image=image_form.instance)

    def _save_variants(self, request, *, parent, formset):
        """New variants through shop.variants (inventory row, audited initial stock),
        changed ones through update_product (audited, the parent's price kept). The
        formset's new/changed lists feed the admin's history message, as its save() would."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for variant_form in formset.forms:
            if not variant_form.has_changed():
                continue
            data = variant_form.cleaned_data
            if variant_form.instance.pk is None:
                created = variants.create_variant(
                    parent=parent,
                    sku=data["sku"],
                    options=variant_form.instance.options,
                    price=data["price"],
                    is_active=data["is_active"],
                    initial_stock=data.get("initial_stock") or 0,
                    actor=request.user,
                )
                formset.new_objects.append(created)
            else:
                changed = [f for f in ("price", "is_active") if f in variant_form.changed_data]
                if changed:
                    update_product(
                        product=variant_form.instance,
                        actor=request.user,
                        **{f: data[f] for f in changed},
                    )
                    formset.changed_objects.append((variant_form.instance, changed))

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
