"""Cancel and expiry settle the PaymentIntent with Stripe first
(payments.services.settle_before_close, subscribed to orders.events.OrderClosing):
a payment that already went through is never cancelled or expired away."""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.tests.helpers import api, client_for
from orders import services as order_services
from orders.models import Order, OrderEmail
from orders.selectors import stock_discrepancies
from orders.tests.factories import make_due
from payments.models import Payment, Refund
from payments.tests.helpers import (
    CLOSED_PORT_URL,
    audit_count,
    checkout,
    confirm,
    fresh,
    payment_of,
    retrieve,
    settle,
    stock,
)
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)

S = Order.Status


def _emails(order) -> list[str]:
    return sorted(OrderEmail.objects.filter(order=order).values_list("kind", flat=True))


# --- cancel -------------------------------------------------------------------------------


def test_cancel_after_the_card_was_charged_answers_the_paid_order(stripe_sim_live):
    product = ProductFactory(stock=5, price=Decimal("10.00"))
    order = checkout(product, quantity=2)
    settle(stripe_sim_live)
    stripe_sim_live.hold_events()  # the success webhook is late
    confirm(stripe_sim_live, payment_of(order).stripe_payment_intent_id)

    response = client_for(order.user).post(api(f"orders/{order.pk}/cancel"))

    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (3, 0)
    assert audit_count("order.cancel", order.pk) == 0
    stripe_sim_live.release_events()  # the late webhook changes nothing
    settle(stripe_sim_live)
    assert fresh(order.pk).status == S.PAID
    assert audit_count("order.mark_paid", order.pk) == 1
    assert not Refund.objects.exists()
    assert _emails(order) == ["paid", "placed"]
    assert stock_discrepancies() == []


def test_the_page_says_the_payment_went_through_instead_of_cancelling(client, stripe_sim):
    order = checkout(ProductFactory(stock=5), quantity=1)
    confirm(stripe_sim, payment_of(order).stripe_payment_intent_id)  # no webhook comes
    client.force_login(order.user)

    response = client.post(reverse("orders:cancel", args=[order.pk]), follow=True)

    texts = [str(m) for m in response.context["messages"]]
    assert texts == [
        f"Your payment for order {order.short_id} went through just now, so the order "
        "is paid, not cancelled."
    ]
    assert fresh(order.pk).status == S.PAID


def test_cancel_cancels_the_payment_intent_at_stripe_first(stripe_sim_live):
    product = ProductFactory(stock=5)
    order = checkout(product, quantity=2)
    intent_id = payment_of(order).stripe_payment_intent_id

    response = client_for(order.user).post(api(f"orders/{order.pk}/cancel"))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    at_stripe = retrieve(stripe_sim_live, intent_id)
    assert (at_stripe["status"], at_stripe["cancellation_reason"]) == (
        "canceled",
        "requested_by_customer",
    )
    settle(stripe_sim_live)  # the payment_intent.canceled webhook does not fail the order
    assert fresh(order.pk).status == S.CANCELLED
    assert payment_of(order).status == Payment.Status.CANCELED
    assert stock(product) == (5, 0)
    assert _emails(order) == ["cancelled", "placed"]


def test_cancel_while_the_payment_is_processing_is_refused_and_changes_nothing(stripe_sim_live):
    product = ProductFactory(stock=5)
    order = checkout(product, quantity=2)
    intent_id = payment_of(order).stripe_payment_intent_id
    confirm(stripe_sim_live, intent_id, "pm_card_processing")
    settle(stripe_sim_live)
    assert payment_of(order).status == Payment.Status.PROCESSING

    response = client_for(order.user).post(api(f"orders/{order.pk}/cancel"))

    assert response.status_code == 409
    assert response.json()["code"] == "payment_in_progress"
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert stock(product) == (3, 2)
    stripe_sim_live.settle_processing(intent_id)  # the bank says yes
    settle(stripe_sim_live)
    assert fresh(order.pk).status == S.PAID


def test_cancel_while_stripe_is_unreachable_is_refused_and_changes_nothing(stripe_sim, settings):
    product = ProductFactory(stock=5)
    order = checkout(product, quantity=2)
    settings.STRIPE_API_BASE = CLOSED_PORT_URL

    response = client_for(order.user).post(api(f"orders/{order.pk}/cancel"))

    assert response.status_code == 503
    assert response.json()["code"] == "payment_unavailable"
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert stock(product) == (3, 2)
    assert audit_count("order.cancel", order.pk) == 0


def test_staff_cancelling_a_paid_order_in_the_admin_are_told_it_is_paid(client, stripe_sim):
    order = checkout(ProductFactory(stock=5), quantity=1)
    confirm(stripe_sim, payment_of(order).stripe_payment_intent_id)
    client.force_login(StaffFactory(is_superuser=True))

    response = client.post(
        reverse("admin:orders_order_transition", args=[order.pk, "cancel"]),
        {"confirm": "yes"},  # the answer to the confirmation page
        follow=True,
    )

    texts = [str(m) for m in response.context["messages"]]
    assert texts == [f"{order}: the payment went through, so it is paid."]
    assert fresh(order.pk).status == S.PAID


def test_a_cancel_racing_the_card_payment_never_cancels_a_charged_order(stripe_sim_live):
    """However the customer's confirmation and the cancel interleave, the order ends
    paid with the money taken, or cancelled with nothing taken: never both."""
    product = ProductFactory(stock=100, price=Decimal("5.00"))
    orders = [checkout(product, quantity=1) for _ in range(6)]
    for order in orders:
        intent_id = payment_of(order).stripe_payment_intent_id

        def pay(intent_id=intent_id):
            try:
                return confirm(stripe_sim_live, intent_id)["status"]
            except Exception as exc:  # the cancel won: Stripe refuses the confirmation
                return type(exc).__name__

        run_concurrently(
            pay, lambda order=order: order_services.cancel_order(order=order, actor=order.user)
        )
    settle(stripe_sim_live)

    for order in orders:
        at_stripe = retrieve(stripe_sim_live, payment_of(order).stripe_payment_intent_id)
        status = fresh(order.pk).status
        assert (status, at_stripe["status"]) in {
            (S.PAID, "succeeded"),
            (S.CANCELLED, "canceled"),
        }
    assert not Refund.objects.exists()
    assert stock_discrepancies() == []


# --- expiry --------------------------------------------------------------------------------


def test_expiry_cancels_the_payment_intent_then_releases_the_stock(stripe_sim_live):
    product = ProductFactory(stock=5)
    order = checkout(product, quantity=2)
    intent_id = payment_of(order).stripe_payment_intent_id
    make_due(order)

    assert order_services.expire_due_orders() == 1

    at_stripe = retrieve(stripe_sim_live, intent_id)
    assert (at_stripe["status"], at_stripe["cancellation_reason"]) == ("canceled", "abandoned")
    settle(stripe_sim_live)
    assert fresh(order.pk).status == S.EXPIRED
    assert stock(product) == (5, 0)
    assert _emails(order) == ["expired", "placed"]


def test_expiry_waits_while_stripe_is_unreachable_and_expires_once_it_answers(stripe_sim, settings):
    product = ProductFactory(stock=5)
    order = checkout(product, quantity=2)
    make_due(order)
    reachable = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = CLOSED_PORT_URL

    assert order_services.expire_due_orders() == 0
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert stock(product) == (3, 2)

    settings.STRIPE_API_BASE = reachable
    assert order_services.expire_due_orders() == 1
    assert fresh(order.pk).status == S.EXPIRED
    assert stock(product) == (5, 0)


def test_expiry_leaves_a_processing_payment_alone(stripe_sim):
    product = ProductFactory(stock=5)
    order = checkout(product, quantity=2)
    intent_id = payment_of(order).stripe_payment_intent_id
    confirm(stripe_sim, intent_id, "pm_card_processing")
    make_due(order)

    assert order_services.expire_due_orders() == 0

    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert payment_of(order).status == Payment.Status.PROCESSING
    assert stock(product) == (3, 2)
