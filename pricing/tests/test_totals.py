"""API.md's totals formulas, edge by edge (compute_totals needs no database)."""

from decimal import Decimal

import pytest

from pricing.models import Coupon, ShippingMethod
from pricing.totals import compute_totals

D = Decimal
PARCEL = ShippingMethod(code="parcel", name="Parcel", price=D("5.00"), free_over=D("50.00"))


def totals(subtotal, *, coupon=None, method=PARCEL, rate="0", requires_shipping=True):
    return compute_totals(
        subtotal=D(subtotal),
        requires_shipping=requires_shipping,
        shipping_method=method,
        coupon=coupon,
        tax_rate=D(rate),
    )


def breakdown(t):
    return (t.subtotal, t.discount_total, t.shipping_total, t.tax_total, t.total)


def test_no_coupon_no_tax():
    assert breakdown(totals("10.00")) == (D("10.00"), D("0.00"), D("5.00"), D("0.00"), D("15.00"))


def test_percent_of_odd_cents_rounds_half_up():
    # 10.05 x 15% = 1.5075 -> 1.51; 0.10 x 25% = 0.025 -> 0.03 (half up, not to even)
    coupon = Coupon(kind=Coupon.Kind.PERCENT, value=D("15"))
    assert totals("10.05", coupon=coupon).discount_total == D("1.51")
    quarter = Coupon(kind=Coupon.Kind.PERCENT, value=D("25"))
    t = totals("0.10", coupon=quarter)
    assert breakdown(t) == (D("0.10"), D("0.03"), D("5.00"), D("0.00"), D("5.07"))


def test_fixed_above_subtotal_is_capped_at_the_subtotal():
    coupon = Coupon(kind=Coupon.Kind.FIXED, value=D("25.00"))
    t = totals("19.99", coupon=coupon, rate="19")
    # Shipping and its tax are still paid: (0 + 5.00) x 19% = 0.95.
    assert breakdown(t) == (D("19.99"), D("19.99"), D("5.00"), D("0.95"), D("5.95"))


def test_fixed_below_subtotal():
    coupon = Coupon(kind=Coupon.Kind.FIXED, value=D("5.00"))
    assert totals("19.99", coupon=coupon).discount_total == D("5.00")


def test_free_over_exactly_met_ships_free():
    assert totals("50.00").shipping_total == D("0.00")
    assert totals("49.99").shipping_total == D("5.00")


def test_free_over_compares_the_subtotal_before_discount():
    coupon = Coupon(kind=Coupon.Kind.FIXED, value=D("10.00"))
    t = totals("50.00", coupon=coupon)
    assert (t.discount_total, t.shipping_total, t.total) == (D("10.00"), D("0.00"), D("40.00"))


def test_no_free_over_always_charges():
    method = ShippingMethod(code="x", name="X", price=D("7.50"), free_over=None)
    assert totals("1000.00", method=method).shipping_total == D("7.50")


def test_free_shipping_coupon_zeroes_shipping_and_taxes_the_rest():
    coupon = Coupon(kind=Coupon.Kind.FREE_SHIPPING, value=D("0"))
    t = totals("10.00", coupon=coupon, rate="19")
    assert breakdown(t) == (D("10.00"), D("0.00"), D("0.00"), D("1.90"), D("11.90"))


def test_tax_includes_shipping():
    # (10.00 - 0 + 5.00) x 19% = 2.85
    t = totals("10.00", rate="19")
    assert breakdown(t) == (D("10.00"), D("0.00"), D("5.00"), D("2.85"), D("17.85"))


def test_tax_rounds_half_up():
    # (0.50 + 5.00) x 7% = 0.385 -> 0.39
    assert totals("0.50", rate="7").tax_total == D("0.39")


def test_tax_after_percent_discount():
    coupon = Coupon(kind=Coupon.Kind.PERCENT, value=D("10"))
    # discount 3.33 (33.33 x 10% = 3.333); (33.33 - 3.33 + 5.00) x 19% = 6.65
    t = totals("33.33", coupon=coupon, rate="19")
    assert breakdown(t) == (D("33.33"), D("3.33"), D("5.00"), D("6.65"), D("41.65"))


def test_no_line_requires_shipping_costs_no_shipping():
    t = totals("10.00", rate="19", requires_shipping=False)
    assert breakdown(t) == (D("10.00"), D("0.00"), D("0.00"), D("1.90"), D("11.90"))


def test_hundred_percent_off():
    coupon = Coupon(kind=Coupon.Kind.PERCENT, value=D("100"))
    t = totals("12.34", coupon=coupon, method=None, requires_shipping=False)
    assert breakdown(t) == (D("12.34"), D("12.34"), D("0.00"), D("0.00"), D("0.00"))


@pytest.mark.parametrize(
    ("subtotal", "percent", "rate"),
    [("0.01", "33", "19"), ("99.99", "12.5", "7"), ("1234.56", "3", "20"), ("7.77", "50", "0")],
)
def test_total_is_the_sum_of_its_parts(subtotal, percent, rate):
    t = totals(subtotal, coupon=Coupon(kind=Coupon.Kind.PERCENT, value=D(percent)), rate=rate)
    assert t.total == t.subtotal - t.discount_total + t.shipping_total + t.tax_total
    assert all(v == v.quantize(D("0.01")) for v in breakdown(t))
