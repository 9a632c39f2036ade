"""Forms of the storefront: they parse and validate input; the services do the work."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from shop.cart import MAX_QUANTITY
from shop.models import Product, User
from shop.services import GUEST_EMAIL_TAKEN


class AddToCartForm(forms.Form):
    """Add units of one product; the quantity is bounded by the stock available now."""

    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)

    def __init__(self, *args, available: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.available = available
        field = self.fields["quantity"]
        field.initial = 1
        field.widget.attrs.update({"min": 1, "max": max(available, 1), "inputmode": "numeric"})

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        check_stock(quantity=quantity, available=self.available)
        return quantity


def check_stock(*, quantity: int, available: int) -> None:
    if available <= 0:
        raise forms.ValidationError(_("This product is sold out."))
    if quantity > available:
        raise forms.ValidationError(
            _("Only %(available)s left in stock.") % {"available": available}
        )


class VariantAddToCartForm(AddToCartForm):
    """Add units of one variant of a parent product: the customer picks the variant
    (the template lists them as radio buttons with their price and stock), and the
    quantity is bounded by that variant's stock."""

    variant = forms.ModelChoiceField(
        label=_("Option"),
        queryset=Product.objects.none(),
        error_messages={
            "required": _("Choose an option."),
            "invalid_choice": _("Choose one of the options shown."),
        },
    )
    field_order = ["variant", "quantity"]

    def __init__(self, *args, product: Product, **kwargs):
        variants = list(product.variants.all())  # active ones, prefetched by the selector
        most = max((v.units_available() for v in variants), default=0)
        super().__init__(*args, available=most, **kwargs)
        self.fields["variant"].queryset = product.variants.purchasable().select_related(
            "inventory", "parent"
        )

    def clean_quantity(self):
        return self.cleaned_data["quantity"]  # the chosen variant's stock decides (clean)

    def clean(self):
        cleaned = super().clean()
        variant, quantity = cleaned.get("variant"), cleaned.get("quantity")
        if variant is not None and quantity is not None:
            try:
                check_stock(quantity=quantity, available=variant.units_available())
            except forms.ValidationError as error:
                self.add_error("quantity", error)
        return cleaned


class CartLineForm(forms.Form):
    """Set the quantity of a cart line; 0 removes it."""

    product_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=0, max_value=MAX_QUANTITY)


class RemoveLineForm(forms.Form):
    product_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class RegisterForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})}

    def clean_email(self):
        # A guest checkout's address: its orders go to the mailbox's owner, through the
        # link in the order email (orders.guest), not to whoever registers the address.
        email = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email, is_guest=True).exists():
            raise forms.ValidationError(GUEST_EMAIL_TAKEN, code="email_taken")
        return email


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
