from django import forms
from django.utils.translation import gettext_lazy as _

from shop.addresses import FIELDS
from shop.models import Address


class CheckoutForm(forms.Form):
    """The checkout POST carries the idempotency token rendered into the page, so a
    double click or a resubmitted form places one order."""

    token = forms.CharField(min_length=16, max_length=255, widget=forms.HiddenInput)


class AddressForm(forms.ModelForm):
    """A new address for the book, entered at checkout."""

    class Meta:
        model = Address
        fields = list(FIELDS)


class GuestCheckoutForm(AddressForm):
    """Checking out without an account: an email address for the order's emails, and
    the delivery address."""

    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    field_order = ["email", *FIELDS]

    def address(self) -> dict:
        return {name: self.cleaned_data[name] for name in FIELDS}


class AddressChoiceForm(forms.Form):
    """An address of the customer's book."""

    address = forms.ModelChoiceField(
        queryset=Address.objects.none(),
        widget=forms.RadioSelect,
        label=_("Deliver to"),
        empty_label=None,
    )

    def __init__(self, *args, addresses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].queryset = addresses


class ShippingForm(forms.Form):
    method = forms.ChoiceField(widget=forms.RadioSelect, label=_("Shipping method"))

    def __init__(self, *args, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = [(m.code, m.name) for m in methods]


class CouponForm(forms.Form):
    coupon = forms.CharField(label=_("Coupon code"), max_length=50)
