"""Refunds: staff refunds sent to the simulator, limits, restock, external refunds, races."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from core.exceptions import NotPermitted
from core.tests.helpers import committed
from orders import services as order_services
from orders.exceptions import InvalidTransition
from orders.models import Order
from orders.selectors import stock_discrepancies
from payments import services
from payments.exceptions import InvalidRefund
from payments.models import Payment, Refund
from payments.tests.helpers import (
    CLOSED_PORT_URL,
    audit_count,
    checkout,
    fresh,
    paid_order,
    payment_of,
    sdk,
    settle,
    sim_refunds,
    stock,
    wait_until,
)
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

# Plain django_db by default (helpers.committed() runs the after-commit work); real
# commits only where threads or the live server need them.
pytestmark = pytest.mark.django_db
live = pytest.mark.django_db(transaction=True)

S = Order.Status


@pytest.fixture
def product():
    return ProductFactory(stock=10, price=Decimal("50.00"))


@pytest.fixture
def staff():
    return StaffFactory()


def test_partial_then_the_rest_refunds_the_order(stripe_sim, product, staff):
    order = paid_order(stripe_sim, product, quantity=2)  # 100.00
    pi_id = payment_of(order).stripe_payment_intent_id

    with committed():
        first = services.refund_payment(order=order, actor=staff, amount=Decimal("30.00"))

    assert fresh(order.pk).status == S.PAID
    payment = payment_of(order)
    assert (payment.amount_received, payment.amount_refunded) == (
        Decimal("100.00"),
        Decimal("30.00"),
    )
    first = Refund.objects.get(pk=first.pk)
    assert first.stripe_refund_id is not None
    assert (first.status, first.amount, first.created_by_id) == ("succeeded", 30, staff.pk)

    with committed():
        rest = services.refund_payment(order=order, actor=staff)

    assert rest.amount == Decimal("70.00")
    order = fresh(order.pk)
    assert order.status == S.REFUNDED
    assert order.restocked is False
    payment = payment_of(order)
    assert payment.amount_refunded == payment.amount_received == Decimal("100.00")
    assert payment.refundable == 0
    assert sorted(r["amount"] for r in sim_refunds(stripe_sim, pi_id)) == [3000, 7000]
    assert {r.stripe_refund_id for r in Refund.objects.all()} == {
        r["id"] for r in sim_refunds(stripe_sim, pi_id)
    }
    assert Refund.objects.filter(status=Refund.Status.SUCCEEDED).count() == 2
    assert audit_count("payment.refund_requested", order.pk) == 2
    assert audit_count("order.refund", order.pk) == 1
    assert stock(product) == (8, 0)  # no restock
    assert stock_discrepancies() == []


@pytest.mark.parametrize("amount", ["100.01", "0", "-5", "0.001", "1000"])
def test_an_impossible_amount_is_refused_and_nothing_changes(stripe_sim, product, staff, amount):
    order = paid_order(stripe_sim, product, quantity=2)

    with pytest.raises(InvalidRefund):
        services.refund_payment(order=order, actor=staff, amount=Decimal(amount))

    assert Refund.objects.count() == 0
    assert payment_of(order).amount_refunded == 0
    assert fresh(order.pk).status == S.PAID
    assert sim_refunds(stripe_sim, payment_of(order).stripe_payment_intent_id) == []
    assert audit_count("payment.refund_requested") == 0


def test_refunding_more_than_is_left_is_refused(stripe_sim, product, staff):
    order = paid_order(stripe_sim, product, quantity=2)
    with committed():
        services.refund_payment(order=order, actor=staff, amount=Decimal("60.00"))

    with pytest.raises(InvalidRefund, match=r"between 0\.01 and 40\.00 USD"):
        services.refund_payment(order=order, actor=staff, amount=Decimal("40.01"))

    assert Refund.objects.count() == 1
    assert payment_of(order).amount_refunded == Decimal("60.00")
    assert fresh(order.pk).status == S.PAID
    assert len(sim_refunds(stripe_sim, payment_of(order).stripe_payment_intent_id)) == 1


def test_restock_is_refused_on_a_partial_refund(stripe_sim, product, staff):
    order = paid_order(stripe_sim, product, quantity=2)

    with pytest.raises(InvalidRefund, match="whole order"):
        services.refund_payment(order=order, actor=staff, amount=Decimal("50.00"), restock=True)

    assert Refund.objects.count() == 0
    assert payment_of(order).amount_refunded == 0
    assert stock(product) == (8, 0)


def test_restock_comes_with_the_completing_refund(stripe_sim, product, staff):
    order = paid_order(stripe_sim, product, quantity=2)
    with committed():
        services.refund_payment(order=order, actor=staff, amount=Decimal("10.00"))

    with committed():
        refund = services.refund_payment(order=order, actor=staff, restock=True)

    assert (refund.amount, refund.restock) == (Decimal("90.00"), True)
    order = fresh(order.pk)
    assert (order.status, order.restocked) == (S.REFUNDED, True)
    assert stock(product) == (10, 0)
    assert stock_discrepancies() == []


def test_full_refund_with_restock_returns_the_stock(stripe_sim, product, staff):
    order = paid_order(stripe_sim, product, quantity=3)
    assert stock(product) == (7, 0)

    with committed():
        services.refund_payment(order=order, actor=staff, restock=True)

    order = fresh(order.pk)
    assert (order.status, order.restocked) == (S.REFUNDED, True)
    assert stock(product) == (10, 0)
    assert audit_count("inventory.returned") == 1
    assert stock_discrepancies() == []


def test_full_refund_without_restock_keeps_the_stock_out(stripe_sim, product, staff):
    order = paid_order(stripe_sim, product, quantity=3)

    with committed():
        services.refund_payment(order=order, actor=staff)

    order = fresh(order.pk)
    assert (order.status, order.restocked) == (S.REFUNDED, False)
    assert stock(product) == (7, 0)
    assert audit_count("inventory.returned") == 0
    assert stock_discrepancies() == []


def test_a_fulfilled_order_can_be_refunded(stripe_sim, product, staff):
    order = paid_order(stripe_sim, product, quantity=1)
    order_services.fulfil_order(order=order, actor=staff)

    with committed():
        services.refund_payment(order=order, actor=staff)

    assert fresh(order.pk).status == S.REFUNDED
    assert payment_of(order).amount_refunded == Decimal("50.00")


def test_a_customer_cannot_refund(stripe_sim, product):
    order = paid_order(stripe_sim, product, quantity=1)

    with pytest.raises(NotPermitted):
        services.refund_payment(order=order, actor=order.user)

    assert Refund.objects.count() == 0
    assert fresh(order.pk).status == S.PAID


def test_an_unpaid_order_cannot_be_refunded(stripe_sim, product, staff):
    order = checkout(product, quantity=1)

    with pytest.raises(InvalidTransition):
        services.refund_payment(order=order, actor=staff, amount=Decimal("10.00"))

    assert Refund.objects.count() == 0
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert payment_of(order).amount_refunded == 0


def test_a_refunded_order_cannot_be_refunded_again(stripe_sim, product, staff):
    order = paid_order(stripe_sim, product, quantity=1)
    with committed():
        services.refund_payment(order=order, actor=staff)

    with pytest.raises(InvalidTransition):
        services.refund_payment(order=order, actor=staff)

    assert Refund.objects.count() == 1


def test_a_refund_stays_pending_while_stripe_is_unreachable(stripe_sim, product, staff, settings):
    order = paid_order(stripe_sim, product, quantity=2)
    settings.STRIPE_API_BASE = CLOSED_PORT_URL

    with committed():
        refund = services.refund_payment(order=order, actor=staff, amount=Decimal("20.00"))

    refund = Refund.objects.get(pk=refund.pk)
    assert (refund.stripe_refund_id, refund.status) == (None, Refund.Status.PENDING)
    # Counted already, so a second refund cannot overdraw the payment.
    assert payment_of(order).amount_refunded == Decimal("20.00")
    with pytest.raises(InvalidRefund):
        services.refund_payment(order=order, actor=staff, amount=Decimal("80.01"))

    settings.STRIPE_API_BASE = stripe_sim.url
    with committed():
        services.submit_refund(refund_id=refund.pk)
    services.submit_refund(refund_id=refund.pk)  # sent once

    refund = Refund.objects.get(pk=refund.pk)
    assert refund.status == Refund.Status.SUCCEEDED
    assert len(sim_refunds(stripe_sim, payment_of(order).stripe_payment_intent_id)) == 1


@live
def test_an_external_partial_refund_is_recorded_from_the_webhooks(stripe_sim_live, product):
    order = paid_order(stripe_sim_live, product, quantity=2)
    pi_id = payment_of(order).stripe_payment_intent_id
    settle(stripe_sim_live)

    made = sdk(stripe_sim_live).v1.refunds.create(params={"payment_intent": pi_id, "amount": 2500})
    settle(stripe_sim_live)

    refund = wait_until(lambda: Refund.objects.filter(stripe_refund_id=made.id).first())
    assert Refund.objects.count() == 1
    assert (refund.amount, refund.status) == (Decimal("25.00"), Refund.Status.SUCCEEDED)
    assert (refund.created_by, refund.reason) == (None, "Made outside the shop")
    assert payment_of(order).amount_refunded == Decimal("25.00")
    assert fresh(order.pk).status == S.PAID
    assert audit_count("payment.refunded_externally", order.pk) == 1


@live
def test_a_full_external_refund_moves_the_order_to_refunded(stripe_sim_live, product):
    order = paid_order(stripe_sim_live, product, quantity=2)
    pi_id = payment_of(order).stripe_payment_intent_id
    settle(stripe_sim_live)

    made = sdk(stripe_sim_live).v1.refunds.create(params={"payment_intent": pi_id})
    settle(stripe_sim_live)

    wait_until(lambda: fresh(order.pk).status == S.REFUNDED)
    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.amount) == (made.id, Decimal("100.00"))
    payment = payment_of(order)
    assert payment.amount_refunded == payment.amount_received == Decimal("100.00")
    assert fresh(order.pk).restocked is False
    assert stock(product) == (8, 0)
    assert audit_count("order.refund", order.pk) == 1
    assert stock_discrepancies() == []


def test_charge_refunded_alone_records_the_refund(stripe_sim, product):
    """The charge.refunded handler fetches the refunds from Stripe (refund.created lost)."""
    order = paid_order(stripe_sim, product, quantity=1)
    pi_id = payment_of(order).stripe_payment_intent_id
    made = sdk(stripe_sim).v1.refunds.create(params={"payment_intent": pi_id, "amount": 1000})

    services.sync_refunds(payment_intent_id=pi_id)
    services.sync_refunds(payment_intent_id=pi_id)

    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.amount) == (made.id, Decimal("10.00"))
    assert payment_of(order).amount_refunded == Decimal("10.00")
    assert audit_count("payment.refunded_externally", order.pk) == 1


@live
def test_concurrent_partial_refunds_never_exceed_the_captured_amount(stripe_sim, staff):
    product = ProductFactory(stock=10, price=Decimal("100.00"))
    order = paid_order(stripe_sim, product, quantity=1)
    share = Decimal("30.00")  # 30% of the total
    staff_members = [staff, *[StaffFactory() for _ in range(7)]]

    outcomes = run_concurrently(
        *[
            lambda actor=actor: services.refund_payment(order=order, actor=actor, amount=share)
            for actor in staff_members
        ]
    )

    succeeded = [value for kind, value in outcomes if kind == "ok"]
    failed = [value for kind, value in outcomes if kind == "error"]
    assert len(succeeded) == 3
    assert len(failed) == 5
    assert all(isinstance(exc, InvalidRefund) for exc in failed), failed
    payment = payment_of(order)
    total = Refund.objects.aggregate(s=Sum("amount"))["s"]
    assert total == payment.amount_refunded == Decimal("90.00")
    assert total <= payment.amount_received
    assert Payment.objects.filter(amount_refunded__gt=F("amount_received")).count() == 0
    assert fresh(order.pk).status == S.PAID
    assert Refund.objects.filter(stripe_refund_id__isnull=False).count() == 3
    assert len(sim_refunds(stripe_sim, payment.stripe_payment_intent_id)) == 3
    # The database itself refuses an overdrawn payment.
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(amount_refunded=F("amount_received") + 1)


def test_a_non_staff_user_is_never_asked_for_more(stripe_sim, product):
    order = paid_order(stripe_sim, product, quantity=1)
    with pytest.raises(NotPermitted):
        services.refund_payment(order=order, actor=UserFactory(), amount=Decimal("1.00"))
    assert payment_of(order).amount_refunded == 0
