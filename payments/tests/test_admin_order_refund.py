"""The refund form on an order's admin page (payments.admin refund_order_view): the
payment and its refunds shown, a confirmation page first, then refund_payment; only for
staff with payments.add_refund."""

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.tests.helpers import committed
from orders.models import Order
from orders.tests.factories import make_order
from payments.exceptions import InvalidRefund
from payments.models import Refund
from payments.services import refund_payment
from payments.tests.helpers import (
    fresh,
    paid_order,
    payment_of,
    sim_refunds,
    stock,
    with_payment,
)
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory
from wallets import services as wallet_services
from wallets.tests.helpers import balance, fund

pytestmark = pytest.mark.django_db
S = Order.Status


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def refund_url(order):
    return reverse("admin:payments_payment_refund_order", args=[order.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def order(stripe_sim):
    product = ProductFactory(stock=5, price=Decimal("25.00"))
    return paid_order(stripe_sim, product, quantity=2, user=UserFactory(email="ada@example.com"))


def test_the_order_page_shows_the_payment_its_refunds_and_the_refund_form(staff_client, order):
    payment = payment_of(order)
    with committed():
        staff_client.post(
            refund_url(order), {"amount": "10.00", "reason": "scratched", "confirm": "yes"}
        )

    page = staff_client.get(change_url(order)).content.decode()

    assert payment.stripe_payment_intent_id in page
    assert '<td data-testid="amount-refunded">$10.00</td>' in page
    assert page.count('data-testid="refund-row"') == 1
    assert "<td>$10.00</td><td>Succeeded</td><td>scratched</td><td>no</td>" in page
    assert f'<form method="post" action="{refund_url(order)}">' in page
    assert 'placeholder="40.00"' in page  # what is left


def test_an_impossible_refund_is_refused_before_asking(staff_client, order):
    response = staff_client.post(refund_url(order), {"amount": "100.00"}, follow=True)

    assert "admin/confirm_action.html" not in [t.name for t in response.templates]
    assert messages_of(response) == [f"{order}: The refund must be between 0.01 and 50.00 USD."]
    assert payment_of(order).amount_refunded == 0


def test_the_refund_form_asks_first_and_changes_nothing(staff_client, order, stripe_sim):
    # All that is left, with the goods back to stock (only a whole refund may restock).
    response = staff_client.post(
        refund_url(order), {"amount": "50.00", "restock": "on", "reason": "scratched"}
    )

    assert response.templates[0].name == "admin/confirm_action.html"
    page = response.content.decode()
    assert f"Refund order {order.short_id} of ada@example.com?" in page
    assert "<dt>Amount</dt><dd>$50.00</dd>" in page
    assert "<dt>Return the goods to stock</dt><dd>yes</dd>" in page
    assert "<dt>Reason</dt><dd>scratched</dd>" in page
    for hidden in (
        '<input type="hidden" name="amount" value="50.00">',
        '<input type="hidden" name="restock" value="on">',
        '<input type="hidden" name="reason" value="scratched">',
        '<input type="hidden" name="remaining" value="50.00">',
        '<input type="hidden" name="confirm" value="yes">',
    ):
        assert hidden in page
    assert not Refund.objects.exists()
    assert sim_refunds(stripe_sim, payment_of(order).stripe_payment_intent_id) == []


def test_confirmed_the_refund_is_recorded_with_its_reason_and_sent(
    staff_client, superuser, order, stripe_sim
):
    with committed():
        response = staff_client.post(
            refund_url(order),
            {"amount": "10.00", "reason": "scratched", "confirm": "yes"},
            follow=True,
        )

    assert response.redirect_chain == [(change_url(order), 302)]
    assert messages_of(response) == [f"Order {order.short_id}: refund of $10.00 recorded."]
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.restock, refund.created_by) == (
        Decimal("10.00"),
        "scratched",
        False,
        superuser,
    )
    assert refund.status == Refund.Status.SUCCEEDED
    requested = AuditEvent.objects.get(action="payment.refund_requested")
    assert requested.after["reason"] == "scratched"
    assert fresh(order.pk).status == S.PAID


def test_an_empty_amount_with_restock_refunds_everything_and_restocks(staff_client, order):
    with committed():
        staff_client.post(refund_url(order), {"amount": "", "restock": "on", "confirm": "yes"})

    stored = fresh(order.pk)
    assert (stored.status, stored.restocked) == (S.REFUNDED, True)
    assert Refund.objects.get().amount == Decimal("50.00")
    assert stock(order.items.get().product_id) == (5, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "50.01"}, "The refund must be between 0.01 and 50.00 USD."),
        ({"amount": "lots"}, "amount: Enter a number."),
        ({"amount": "0"}, "amount: Ensure this value is greater than or equal to 0.01."),
        ({"reason": "x" * 256}, "reason: Ensure this value has at most 255 characters"),
    ],
)
def test_bad_input_says_why_and_changes_nothing(staff_client, order, data, message):
    response = staff_client.post(refund_url(order), {**data, "confirm": "yes"}, follow=True)

    (said,) = messages_of(response)
    assert message in said
    assert not Refund.objects.exists()
    assert payment_of(order).amount_refunded == 0


def test_staff_without_the_refund_permission_get_403_and_nothing_changes(client, order):
    client.force_login(
        StaffFactory(
            permissions=["orders.view_order", "orders.change_order", "payments.view_payment"]
        )
    )

    page = client.get(change_url(order)).content.decode()
    response = client.post(refund_url(order), {"amount": "10.00", "confirm": "yes"})

    assert 'data-testid="refund-panel"' not in page
    assert 'data-testid="payment-panel"' in page
    assert response.status_code == 403
    assert not Refund.objects.exists()
    assert fresh(order.pk).status == S.PAID


def test_staff_with_only_the_refund_permission_may_refund(client, order):
    client.force_login(StaffFactory(permissions=["orders.view_order", "payments.add_refund"]))

    assert 'data-testid="refund-panel"' in client.get(change_url(order)).content.decode()
    with committed():
        client.post(refund_url(order), {"amount": "5.00", "confirm": "yes"})

    assert Refund.objects.get().amount == Decimal("5.00")


def test_an_unpaid_order_offers_no_refund_and_refuses_one(staff_client):
    order = make_order(status=S.PAYMENT_PENDING)

    page = staff_client.get(change_url(order)).content.decode()
    response = staff_client.post(refund_url(order), {"confirm": "yes"}, follow=True)

    assert 'data-testid="refund-panel"' not in page
    assert messages_of(response) == [
        f"Order {order.short_id}: Order {order.short_id} is not refundable."
    ]


def test_a_wallet_paid_order_is_refunded_to_the_wallet_with_the_reason(staff_client):
    buyer = UserFactory()
    fund(buyer, "30.00")
    product = ProductFactory(stock=5, price=Decimal("20.00"))
    pending = make_order(user=buyer, lines=[(product.pk, 1)], status=S.PAYMENT_PENDING)
    with_payment(pending, received=False)  # the card payment the customer started first
    wallet_services.pay_order(order=pending, user=buyer)

    page = staff_client.get(change_url(pending)).content.decode()
    staff_client.post(refund_url(pending), {"reason": "late", "confirm": "yes"})

    assert 'data-testid="paid-from-wallet"' in page
    assert "Nothing was received by card: its PaymentIntent pi_test_1 is cancelled." in page
    assert 'data-testid="amount-refunded"' not in page
    assert balance(buyer) == Decimal("30.00")
    event = AuditEvent.objects.get(action="payment.refunded_to_wallet")
    assert event.after["reason"] == "late"
    assert fresh(pending.pk).status == S.REFUNDED


def test_a_confirmation_submitted_twice_refunds_once(staff_client, order):
    confirm = {"amount": "10.00", "remaining": "50.00", "confirm": "yes"}
    with committed():
        staff_client.post(refund_url(order), confirm, follow=True)

    with committed():
        again = staff_client.post(refund_url(order), confirm, follow=True)

    assert messages_of(again) == [
        f"Order {order.short_id}: Order {order.short_id} was refunded meanwhile: 40.00 usd is "
        "left to refund now. Nothing was refunded; check the order and try again."
    ]
    assert Refund.objects.get().amount == Decimal("10.00")
    assert payment_of(order).amount_refunded == Decimal("10.00")


@pytest.mark.django_db(transaction=True)
def test_racing_confirmations_refund_exactly_once():
    staff = StaffFactory(permissions=["payments.add_refund"])
    product = ProductFactory(stock=5, price=Decimal("25.00"))
    paid = make_order(lines=[(product.pk, 2)], status=S.PAID)
    with_payment(paid)  # Stripe is unreachable here: the refunds stay pending, recorded

    def confirm():
        return refund_payment(
            order=paid, actor=staff, amount=Decimal("10.00"), expected_remaining=Decimal("50.00")
        )

    outcomes = run_concurrently(*[confirm] * 4)

    assert sorted(kind for kind, _ in outcomes) == ["error", "error", "error", "ok"]
    assert all(isinstance(exc, InvalidRefund) for kind, exc in outcomes if kind == "error")
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("10.00")]
    assert payment_of(paid).amount_refunded == Decimal("10.00")
