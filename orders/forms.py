from django import forms


class CheckoutForm(forms.Form):
    """The checkout POST carries the idempotency token rendered into the page, so a
    double click or a resubmitted form places one order."""

    token = forms.CharField(min_length=16, max_length=255, widget=forms.HiddenInput)
