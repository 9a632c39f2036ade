"""Checkout with an address, a shipping method, tax and a coupon (API.md v1.1): the
order's snapshot and breakdown, the errors (nothing reserved, no use counted), and the
coupon use given back exactly once by an order that ends unpaid."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from orders import services
from orders.checkout import Delivery, place_order, quote_order
from orders.exceptions import IdempotencyConflict
from orders.models import Order
from orders.selectors import money_discrepancies
from orders.tests.factories import make_due
from pricing.exceptions import (
    CouponExhausted,
    InvalidCoupon,
    ShippingRequired,
    ShippingUnavailable,
)
from pricing.models import Coupon, CouponUse
from pricing.tests.factories import (
    CouponFactory,
    ShippingMethodFactory,
    TaxRateFactory,
)
from shop.models import Inventory
from shop.tests.factories import AddressFactory, ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def setup():
    customer = UserFactory()
    address = AddressFactory(user=customer, country="DE", region="")
    ShippingMethodFactory(code="dhl", name="DHL Paket", price=D("4.90"), countries=["DE"])
    ShippingMethodFactory(code="ups-us", name="UPS", price=D("9.00"), countries=["US"])
    TaxRateFactory(country="DE", rate=D("19.00"))
    product = ProductFactory(price=D("33.33"), requires_shipping=True, stock=10)
    return customer, address, product


def delivery(address, **kwargs):
    return Delivery(shipping_address_id=address.pk, shipping_method="dhl", **kwargs)


def db_state():
    return (
        Order.objects.count(),
        list(Inventory.objects.order_by("pk").values_list("available", "reserved")),
        list(Coupon.objects.order_by("pk").values_list("uses", flat=True)),
        CouponUse.objects.count(),
    )


def test_checkout_keeps_the_breakdown_and_snapshots(setup):
    customer, address, product = setup
    CouponFactory(code="Save10", kind=Coupon.Kind.PERCENT, value=D("10"), max_uses=5)

    order = place_order(
        user=customer, lines=[(product.pk, 2)], delivery=delivery(address, coupon="save10")
    )

    # 66.66; discount 6.67 (6.666); (66.66 - 6.67 + 4.90) x 19% = 12.3291 -> 12.33
    order.refresh_from_db()
    assert (
        order.subtotal,
        order.discount_total,
        order.shipping_total,
        order.tax_total,
        order.total,
    ) == (D("66.66"), D("6.67"), D("4.90"), D("12.33"), D("77.22"))
    assert (order.coupon_code, order.shipping_method) == (
        "Save10",
        {"code": "dhl", "name": "DHL Paket"},
    )
    assert order.shipping_address == {
        "full_name": "Ada Lovelace",
        "line1": "Unter den Linden 1",
        "line2": "",
        "city": "Berlin",
        "region": "",
        "postal_code": "10117",
        "country": "DE",
        "phone": "",
    }
    coupon = Coupon.objects.get()
    assert coupon.uses == 1
    assert CouponUse.objects.get().order_id == order.pk
    assert AuditEvent.objects.filter(action="coupon.used", entity_id=str(coupon.pk)).count() == 1
    # Editing or deleting the address never changes the order.
    address.delete()
    order.refresh_from_db()
    assert order.shipping_address["city"] == "Berlin"


def test_quote_matches_checkout_and_changes_nothing(setup):
    customer, address, product = setup
    CouponFactory(code="FIVE", kind=Coupon.Kind.FIXED, value=D("5.00"), max_uses=1)
    state = db_state()

    quote = quote_order(
        user=customer, lines=[(product.pk, 1)], delivery=delivery(address, coupon="five")
    )

    assert db_state() == state
    order = place_order(
        user=customer, lines=[(product.pk, 1)], delivery=delivery(address, coupon="five")
    )
    assert quote.totals.total == order.total == D("39.54")  # 33.23 + 6.3137 tax


@pytest.mark.parametrize(
    "chosen",
    [
        {},
        {"shipping_method": "dhl"},
        {"shipping_address_id": "mine"},
        {"shipping_address_id": "theirs", "shipping_method": "dhl"},
    ],
)
def test_shipped_goods_need_an_address_and_method(setup, chosen):
    customer, address, product = setup
    theirs = AddressFactory()
    ids = {"mine": address.pk, "theirs": theirs.pk}
    if "shipping_address_id" in chosen:
        chosen = {**chosen, "shipping_address_id": ids[chosen["shipping_address_id"]]}
    state = db_state()
    with pytest.raises(ShippingRequired):
        place_order(user=customer, lines=[(product.pk, 1)], delivery=Delivery(**chosen))
    with pytest.raises(ShippingRequired):
        quote_order(user=customer, lines=[(product.pk, 1)], delivery=Delivery(**chosen))
    assert db_state() == state


@pytest.mark.parametrize("method", ["ups-us", "nope"])
def test_method_that_does_not_ship_there_is_unavailable(setup, method):
    customer, address, product = setup
    ShippingMethodFactory(code="off", countries=["DE"], is_active=False)
    state = db_state()
    with pytest.raises(ShippingUnavailable):
        place_order(
            user=customer,
            lines=[(product.pk, 1)],
            delivery=Delivery(shipping_address_id=address.pk, shipping_method=method),
        )
    assert db_state() == state


def test_inactive_method_is_unavailable(setup):
    customer, address, product = setup
    ShippingMethodFactory(code="off", countries=["DE"], is_active=False)
    with pytest.raises(ShippingUnavailable):
        place_order(
            user=customer,
            lines=[(product.pk, 1)],
            delivery=Delivery(shipping_address_id=address.pk, shipping_method="off"),
        )


@pytest.mark.parametrize(
    "coupon_kwargs",
    [
        {"is_active": False},
        {"starts_at": timezone.now() + timedelta(days=1)},
        {"ends_at": timezone.now() - timedelta(seconds=1)},
        {"min_subtotal": D("33.34")},
    ],
)
def test_invalid_coupon_changes_nothing(setup, coupon_kwargs):
    customer, address, product = setup
    CouponFactory(code="BAD", **coupon_kwargs)
    state = db_state()
    with pytest.raises(InvalidCoupon):
        place_order(
            user=customer, lines=[(product.pk, 1)], delivery=delivery(address, coupon="BAD")
        )
    with pytest.raises(InvalidCoupon):
        place_order(
            user=customer, lines=[(product.pk, 1)], delivery=delivery(address, coupon="unknown")
        )
    assert db_state() == state


def test_min_subtotal_exactly_met_is_valid(setup):
    customer, address, product = setup
    CouponFactory(code="MIN", min_subtotal=D("33.33"))
    order = place_order(
        user=customer, lines=[(product.pk, 1)], delivery=delivery(address, coupon="MIN")
    )
    assert order.coupon_code == "MIN"


def test_exhausted_coupon_is_409_and_reserves_nothing(setup):
    customer, address, product = setup
    CouponFactory(code="ONCE", max_uses=1)
    ebook = ProductFactory(requires_shipping=False)
    place_order(user=UserFactory(), lines=[(ebook.pk, 1)], delivery=Delivery(coupon="once"))
    state = db_state()
    with pytest.raises(CouponExhausted):
        place_order(
            user=customer, lines=[(product.pk, 1)], delivery=delivery(address, coupon="ONCE")
        )
    with pytest.raises(CouponExhausted):
        quote_order(
            user=customer, lines=[(product.pk, 1)], delivery=delivery(address, coupon="ONCE")
        )
    assert db_state() == state


def test_per_customer_limit(setup):
    customer, address, product = setup
    CouponFactory(code="MINE", max_uses_per_customer=1)
    place_order(user=customer, lines=[(product.pk, 1)], delivery=delivery(address, coupon="MINE"))
    with pytest.raises(CouponExhausted):
        place_order(
            user=customer, lines=[(product.pk, 1)], delivery=delivery(address, coupon="MINE")
        )
    other = UserFactory()
    other_address = AddressFactory(user=other)
    place_order(
        user=other, lines=[(product.pk, 1)], delivery=delivery(other_address, coupon="MINE")
    )
    assert Coupon.objects.get().uses == 2


def test_goods_not_shipped_need_no_address_but_an_address_sets_the_tax(setup):
    customer, address, _ = setup
    ebook = ProductFactory(price=D("10.00"), requires_shipping=False)
    plain = place_order(user=customer, lines=[(ebook.pk, 1)])
    assert (plain.shipping_total, plain.tax_total, plain.total) == (
        D("0.00"),
        D("0.00"),
        D("10.00"),
    )
    assert plain.shipping_address is None and plain.shipping_method is None
    taxed = place_order(
        user=customer, lines=[(ebook.pk, 2)], delivery=Delivery(shipping_address_id=address.pk)
    )
    assert (taxed.shipping_total, taxed.tax_total, taxed.total) == (
        D("0.00"),
        D("3.80"),
        D("23.80"),
    )


def test_mixed_cart_needs_shipping(setup):
    customer, _address, product = setup
    ebook = ProductFactory(requires_shipping=False)
    with pytest.raises(ShippingRequired):
        place_order(user=customer, lines=[(ebook.pk, 1), (product.pk, 1)])


def test_same_key_with_another_coupon_is_a_conflict(setup):
    customer, address, product = setup
    CouponFactory(code="A")
    CouponFactory(code="B")
    lines = [(product.pk, 1)]
    first = place_order(
        user=customer, lines=lines, idempotency_key="k", delivery=delivery(address, coupon="A")
    )
    again = place_order(
        user=customer, lines=lines, idempotency_key="k", delivery=delivery(address, coupon="a")
    )
    assert again.pk == first.pk and again.replayed
    with pytest.raises(IdempotencyConflict):
        place_order(
            user=customer, lines=lines, idempotency_key="k", delivery=delivery(address, coupon="B")
        )
    assert Coupon.objects.get(code="A").use_rows.count() == 1  # unlimited: no count kept


# --- coupon uses given back ------------------------------------------------------------------


def _order_with_coupon(setup, code="BACK"):
    customer, address, product = setup
    coupon = Coupon.objects.filter(code=code).first() or CouponFactory(code=code, max_uses=1)
    order = place_order(
        user=customer, lines=[(product.pk, 1)], delivery=delivery(address, coupon=code)
    )
    return order, coupon


def test_cancel_gives_the_use_back_once(setup):
    order, coupon = _order_with_coupon(setup)
    services.cancel_order(order=order, actor=order.user)
    coupon.refresh_from_db()
    assert coupon.uses == 0 and CouponUse.objects.count() == 0
    assert AuditEvent.objects.filter(action="coupon.released").count() == 1
    # The use is free again: another customer may take it.
    other = UserFactory()
    place_order(
        user=other,
        lines=[(order.items.get().product_id, 1)],
        delivery=delivery(AddressFactory(user=other), coupon="BACK"),
    )
    coupon.refresh_from_db()
    assert coupon.uses == 1


def test_expire_and_fail_give_the_use_back(setup):
    expired, coupon = _order_with_coupon(setup)
    make_due(expired)
    assert services.expire_order(order=expired) is True
    assert services.expire_order(order=expired) is False
    coupon.refresh_from_db()
    assert coupon.uses == 0
    failed, _ = _order_with_coupon(setup)
    services.fail_order(order=services.start_payment(order=failed))
    coupon.refresh_from_db()
    assert coupon.uses == 0 and CouponUse.objects.count() == 0
    assert AuditEvent.objects.filter(action="coupon.released").count() == 2


def test_paid_and_refunded_orders_keep_their_use(setup):
    order, coupon = _order_with_coupon(setup)
    order = services.mark_paid(order=services.start_payment(order=order))
    services.refund_order(order=order, actor=StaffFactory())
    coupon.refresh_from_db()
    assert coupon.uses == 1 and CouponUse.objects.get().order_id == order.pk


def test_late_payment_takes_the_use_again(setup):
    order, coupon = _order_with_coupon(setup)
    services.cancel_order(order=order, actor=order.user)
    assert services.recover_late_payment(order=order) is True
    coupon.refresh_from_db()
    assert coupon.uses == 1
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_late_payment_refused_when_the_coupon_was_used_up_meanwhile(setup):
    order, _coupon = _order_with_coupon(setup)
    services.cancel_order(order=order, actor=order.user)
    other = UserFactory()
    place_order(
        user=other,
        lines=[(order.items.get().product_id, 1)],
        delivery=delivery(AddressFactory(user=other), coupon="BACK"),
    )
    state = db_state()
    assert services.recover_late_payment(order=order) is False
    assert db_state() == state
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED


def test_money_discrepancies_report_a_coupon_count_off(setup):
    order, coupon = _order_with_coupon(setup)
    assert money_discrepancies() == []
    Coupon.objects.filter(pk=coupon.pk).update(uses=0)
    assert [p["code"] for p in money_discrepancies()] == ["BACK"]
    Coupon.objects.filter(pk=coupon.pk).update(uses=1)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)  # no give-back
    assert money_discrepancies() == [
        {"order_id": order.pk, "broken": ["an order ended unpaid holds a coupon use"]}
    ]


def test_placed_and_paid_emails_show_the_breakdown_and_address(setup):
    from orders import emails

    order, _ = _order_with_coupon(setup)  # 33.33 - 3.33 (10%) + 4.90 + 19% tax
    for kind in ("placed", "paid"):
        message = emails.build_message(order=Order.objects.get(pk=order.pk), kind=kind)
        html, _ = message.alternatives[0]
        body = message.body
        assert "Subtotal: $33.33" in body
        assert "Discount (BACK): -$3.33" in body
        assert "Shipping (DHL Paket): $4.90" in body
        assert "Tax: $6.63" in body  # 34.90 x 19% = 6.631
        assert "Total: $41.53" in body
        assert "Unter den Linden 1\n10117 Berlin\nGermany" in body
        assert "Unter den Linden 1<br>10117 Berlin<br>Germany" in html
        assert "&minus;$3.33" in html
