"""`{{ amount|money:currency }}`: a price as a customer of the active language reads it.

The one place prices become text ("$1,499.90" in English, "1.499,90 $" in German):
Babel knows each locale's symbols, separators and symbol position, so no template
builds a price by hand.
"""

from decimal import Decimal, InvalidOperation

from django import template

from core.money import format_price

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
    return format_price(value, currency)
