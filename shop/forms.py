"""Forms of the storefront: they parse and validate input; the services do the work."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from shop.cart import MAX_QUANTITY
from shop.models import User


class AddToCartForm(forms.Form):
    """Add units of one product; the quantity is bounded by the stock available now."""

    quantity = forms.IntegerField(label="Quantity", min_value=1, max_value=MAX_QUANTITY)

    def __init__(self, *args, available: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.available = available
        field = self.fields["quantity"]
        field.initial = 1
        field.widget.attrs.update({"min": 1, "max": max(available, 1), "inputmode": "numeric"})

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if self.available <= 0:
            raise forms.ValidationError("This product is sold out.")
        if quantity > self.available:
            raise forms.ValidationError(f"Only {self.available} left in stock.")
        return quantity


class CartLineForm(forms.Form):
    """Set the quantity of a cart line; 0 removes it."""

    product_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    quantity = forms.IntegerField(label="Quantity", min_value=0, max_value=MAX_QUANTITY)


class RemoveLineForm(forms.Form):
    product_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class RegisterForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})}


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
