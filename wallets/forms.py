"""Forms of the wallet page: they parse input; wallets.services and payments.services
(deposits) check the rules and do the work."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import MONEY
from wallets.models import Deposit, Withdrawal


class TopUpForm(forms.Form):
    """A top-up by card. The POST carries the idempotency token rendered into the page,
    so a double click or a resubmitted form opens one deposit (one PaymentIntent)."""

    # Both forms share the wallet page: prefixes keep their field names and ids apart.
    prefix = "top_up"
    amount = forms.DecimalField(
        label=_("Top-up amount"),
        **MONEY,
        min_value=Deposit.MIN_AMOUNT,
        max_value=Deposit.MAX_AMOUNT,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    token = forms.CharField(min_length=16, max_length=255, widget=forms.HiddenInput)


class WithdrawalForm(forms.Form):
    prefix = "withdraw"
    amount = forms.DecimalField(
        label=_("Withdrawal amount"),
        **MONEY,
        min_value=Withdrawal.MIN_AMOUNT,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


def error_message(form: forms.Form) -> str:
    """A bound form's errors as one message: the wallet page's forms post elsewhere and
    come back to the page, which shows them above its contents."""
    parts = []
    for name, errors in form.errors.items():
        label = getattr(form.fields.get(name), "label", None)
        for error in errors:
            parts.append(
                _("%(field)s: %(error)s") % {"field": label, "error": error} if label else error
            )
    return " ".join(parts)
