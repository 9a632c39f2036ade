"""`{{ amount|money:currency }}`: a price as a customer of the active language reads it.

The one place prices become text ("$1,499.90" in English, "1.499,90 $" in German):
Babel knows each locale's symbols, separators and symbol position, so no template
builds a price by hand.
"""

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from django import template
from django.conf import settings
from django.utils.translation import get_language, to_locale

register = template.Library()


@register.filter
def money(amount, currency: str | None = None) -> str:
    """Format `amount` in `currency` (the shop currency by default) for the active locale."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return str(amount)
    code = (currency or settings.SHOP_CURRENCY).upper()
    locale = to_locale(get_language() or settings.LANGUAGE_CODE)
    return format_currency(value, code, locale=locale)
