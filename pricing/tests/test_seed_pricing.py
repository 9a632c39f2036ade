from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from pricing.models import Coupon, ShippingMethod, TaxRate
from pricing.selectors import shipping_methods_for, tax_rate_for

pytestmark = pytest.mark.django_db


def test_seed_pricing_is_idempotent_and_usable():
    out = StringIO()
    call_command("seed_pricing", stdout=out)
    call_command("seed_pricing", stdout=out)
    assert "Demo pricing ready (10 new row(s))" in out.getvalue()
    assert "Demo pricing ready (0 new row(s))" in out.getvalue()
    assert ShippingMethod.objects.count() == 2 and Coupon.objects.count() == 2
    assert TaxRate.objects.count() == 6
    assert [m.code for m in shipping_methods_for(country="DE")] == ["standard", "express"]
    assert tax_rate_for(country="US", region="CA") == Decimal("7.25")
