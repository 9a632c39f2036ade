from decimal import Decimal

import pytest

from pricing.selectors import shipping_methods_for, tax_rate_for
from pricing.tests.factories import ShippingMethodFactory, TaxRateFactory

pytestmark = pytest.mark.django_db


def test_region_rate_wins_over_country_rate():
    TaxRateFactory(country="US", region="", rate=Decimal("0.00"))
    TaxRateFactory(country="US", region="CA", rate=Decimal("7.25"))
    assert tax_rate_for(country="US", region="CA") == Decimal("7.25")
    assert tax_rate_for(country="us", region="ca") == Decimal("7.25")
    assert tax_rate_for(country="US", region="NY") == Decimal("0.00")
    assert tax_rate_for(country="US") == Decimal("0.00")


def test_no_rate_is_zero():
    TaxRateFactory(country="DE", rate=Decimal("19.00"))
    assert tax_rate_for(country="FR") == Decimal("0.00")
    assert tax_rate_for(country="DE", region="Bayern") == Decimal("19.00")


def test_shipping_methods_for_country_only_active_ones():
    de = ShippingMethodFactory(code="de", countries=["DE"])
    both = ShippingMethodFactory(code="both", countries=["AT", "DE"], price=Decimal("9.00"))
    ShippingMethodFactory(code="off", countries=["DE"], is_active=False)
    ShippingMethodFactory(code="fr", countries=["FR"])
    assert list(shipping_methods_for(country="de")) == [de, both]
    assert list(shipping_methods_for(country="AT")) == [both]
    assert list(shipping_methods_for(country="EC")) == []
