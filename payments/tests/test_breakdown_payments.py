"""An order with a discount, shipping and tax: the PaymentIntent charges its total and
refunds stop at it (API.md v1.1), and payment_discrepancies says when either breaks."""

from decimal import Decimal

import pytest

from core.tests.helpers import committed
from orders.checkout import Delivery, place_order
from orders.models import Order
from payments import services
from payments.exceptions import InvalidRefund
from payments.models import Payment
from payments.selectors import payment_discrepancies
from payments.tests.helpers import confirm, fresh, minor, payment_of, retrieve
from pricing.models import Coupon
from pricing.tests.factories import (
    CouponFactory,
    ShippingMethodFactory,
    TaxRateFactory,
)
from shop.tests.factories import AddressFactory, ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def priced_order(stripe_sim):
    customer = UserFactory()
    address = AddressFactory(user=customer, country="DE")
    ShippingMethodFactory(code="std", price=D("4.90"), countries=["DE"])
    TaxRateFactory(country="DE", rate=D("19.00"))
    CouponFactory(code="TENOFF", kind=Coupon.Kind.FIXED, value=D("10.00"))
    product = ProductFactory(price=D("50.00"), requires_shipping=True)
    with committed():
        placed = place_order(
            user=customer,
            lines=[(product.pk, 1)],
            delivery=Delivery(
                shipping_address_id=address.pk, shipping_method="std", coupon="tenoff"
            ),
        )
    return fresh(placed.pk)


def test_payment_intent_charges_the_total_and_refunds_stop_at_it(stripe_sim, priced_order):
    # (50.00 - 10.00 + 4.90) x 1.19 = 53.431 -> tax 8.53, total 53.43
    order = priced_order
    assert (order.subtotal, order.total) == (D("50.00"), D("53.43"))
    payment = payment_of(order)
    assert payment.amount == D("53.43")
    assert retrieve(stripe_sim, payment.stripe_payment_intent_id)["amount"] == minor(D("53.43"))
    intent = confirm(stripe_sim, payment.stripe_payment_intent_id)
    with committed():
        services.apply_payment_intent(payment_intent=intent)
    order = fresh(order.pk)
    assert order.status == Order.Status.PAID
    staff = StaffFactory()
    with pytest.raises(InvalidRefund):
        services.refund_payment(order=order, actor=staff, amount=D("53.44"))
    with committed():
        services.refund_payment(order=order, actor=staff, amount=D("53.43"))
    assert payment_discrepancies() == []


def test_payment_discrepancies_report_an_amount_off(priced_order):
    Payment.objects.filter(order=priced_order).update(amount=priced_order.subtotal)
    [problem] = payment_discrepancies()
    assert (problem["order_id"], problem["amount"], problem["order_total"]) == (
        priced_order.pk,
        D("50.00"),
        D("53.43"),
    )
