"""Forms of the merchant pages: they parse and validate input; the services do the work."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant
from shop.models import Product
from shop.serializers import MAX_STOCK_CHANGE


class ApplyForm(forms.Form):
    display_name = forms.CharField(
        label=_("Shop name"),
        max_length=Merchant._meta.get_field("display_name").max_length,
        help_text=_("Customers see it beside your products."),
    )


def _price_field():
    return forms.DecimalField(
        label=_("Price"), max_digits=12, decimal_places=2, min_value=Decimal("0")
    )


def _stock_field():
    return forms.IntegerField(
        label=_("Units in stock"), min_value=0, max_value=MAX_STOCK_CHANGE, initial=0
    )


class ProductEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    price = _price_field()
    is_active = forms.BooleanField(
        label=_("On sale"), required=False, help_text=_("Untick to take it out of the catalog.")
    )


class ParentEditForm(ProductEditForm):
    """A product with options: its price is its cheapest variant's, set on them."""

    price = None


class NewProductForm(forms.Form):
    """What every new product or variant starts with: a SKU nobody uses, on sale."""

    sku = forms.CharField(label=_("SKU"), max_length=64, help_text=_("Your unique article code."))
    is_active = forms.BooleanField(
        label=_("On sale"),
        required=False,
        initial=True,
        help_text=_("Untick to take it out of the catalog."),
    )

    def clean_sku(self):
        sku = self.cleaned_data["sku"].strip()
        if Product.objects.filter(sku=sku).exists():
            raise forms.ValidationError(_("A product with this SKU already exists."))
        return sku


class ProductCreateForm(NewProductForm, ProductEditForm):
    initial_stock = _stock_field()
    field_order = ["sku", "name", "description", "price", "initial_stock", "is_active"]


class ParentCreateForm(NewProductForm, ParentEditForm):
    option_names = forms.CharField(
        label=_("Options"),
        max_length=200,
        help_text=_("What customers choose, separated by commas: Size, Colour."),
    )
    field_order = ["sku", "name", "description", "option_names", "is_active"]

    def clean_option_names(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["option_names"].split(",")]
        if not all(names):
            raise forms.ValidationError(_("Name the options, e.g. Size, Colour."))
        return names


class VariantCreateForm(NewProductForm):
    """A variant of `parent`: one value for each of its options, its price and stock."""

    price = _price_field()
    initial_stock = _stock_field()

    def __init__(self, *args, parent: Product, **kwargs):
        # Beside the product's own form on its page: its fields need their own ids.
        super().__init__(*args, prefix="variant", **kwargs)
        self.option_fields = {}
        for number, name in enumerate(parent.option_names):
            field_name = f"option_{number}"
            self.fields[field_name] = forms.CharField(label=name, max_length=50)
            self.option_fields[field_name] = name
        self.order_fields(["sku", *self.option_fields, "price", "initial_stock", "is_active"])

    def clean(self):
        cleaned = super().clean()
        cleaned["options"] = {
            name: cleaned.pop(field)
            for field, name in self.option_fields.items()
            if field in cleaned
        }
        return cleaned


class AdjustForm(forms.Form):
    delta = forms.IntegerField(
        label=_("Change in units"),
        min_value=-MAX_STOCK_CHANGE,
        max_value=MAX_STOCK_CHANGE,
        help_text=_("Positive to add stock, negative to take it away."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean_delta(self):
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError(_("Enter a change other than zero."))
        return delta
