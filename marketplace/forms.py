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


class ProductEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    price = forms.DecimalField(
        label=_("Price"), max_digits=12, decimal_places=2, min_value=Decimal("0")
    )
    is_active = forms.BooleanField(
        label=_("On sale"), required=False, help_text=_("Untick to take it out of the catalog.")
    )


class ProductCreateForm(ProductEditForm):
    sku = forms.CharField(label=_("SKU"), max_length=64, help_text=_("Your unique article code."))
    initial_stock = forms.IntegerField(
        label=_("Units in stock"), min_value=0, max_value=MAX_STOCK_CHANGE, initial=0
    )
    field_order = ["sku", "name", "description", "price", "initial_stock", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["is_active"].initial = True

    def clean_sku(self):
        sku = self.cleaned_data["sku"].strip()
        if Product.objects.filter(sku=sku).exists():
            raise forms.ValidationError(_("A product with this SKU already exists."))
        return sku


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
