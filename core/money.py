"""Money as the shop keeps it: Decimal with two places, never a float.

Integer minor units exist only at the Stripe boundary (`payments.gateway`).
"""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency
from django.conf import settings
from django.utils.translation import get_language, to_locale

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The arguments of every money field: DecimalField(**MONEY) in models and serializers.
MONEY = {"max_digits": 12, "decimal_places": 2}


def round_money(amount: Decimal) -> Decimal:
    """`amount` rounded half up to cents."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal, currency: str) -> str:
    """ "1499.90 USD": an amount in an error or a staff message, the currency as people
    write it. Pages format prices per locale with the `money` template filter instead."""
    return f"{round_money(amount)} {currency.upper()}"


def format_price(amount: Decimal, currency: str | None = None) -> str:
    """ "$1,499.90" in English, "1.499,90 $" in German: an amount as a customer of the
    active language reads it (Babel), in a message to them; templates use the `money`
    filter, which calls this. `currency` defaults to the shop's."""
    code = (currency or settings.SHOP_CURRENCY).upper()
    return format_currency(amount, code, locale=to_locale(get_language() or settings.LANGUAGE_CODE))
