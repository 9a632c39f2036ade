from decimal import Decimal

from django.template import Context, Template
from django.test import override_settings
from django.utils import translation

from core.templatetags.money import money


def test_english_puts_the_symbol_first_with_thousands_separators():
    with translation.override("en-us"):
        assert money(Decimal("1499.90"), "usd") == "$1,499.90"


def test_german_puts_the_symbol_last_with_a_decimal_comma():
    with translation.override("de"):
        assert money(Decimal("1499.90"), "eur") == "1.499,90\xa0€"


@override_settings(SHOP_CURRENCY="eur")
def test_the_shop_currency_is_the_default():
    with translation.override("en-us"):
        assert money(Decimal("5"), None) == "€5.00"


def test_empty_values_render_nothing_and_junk_renders_as_given():
    assert money(None, "usd") == ""
    assert money("", "usd") == ""
    assert money("n/a", "usd") == "n/a"


def test_the_filter_is_available_in_templates():
    with translation.override("en-us"):
        rendered = Template("{% load money %}{{ price|money:'usd' }}").render(
            Context({"price": Decimal("12.5")})
        )
    assert rendered == "$12.50"
