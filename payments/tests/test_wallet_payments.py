"""Paying orders from the wallet beside the card: one payment per order however they
race, the card's PaymentIntent cancelled (or, if it went through, refunded in full), and
refunds of wallet-paid orders back to the wallet."""

import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from core.tests.helpers import api, client_for, committed
from orders.models import Order, OrderEmail
from orders.selectors import order_timeline, stock_discrepancies
from orders.tests.factories import make_order
from payments import services
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
    sim_refunds,
    stock,
)
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory
from wallets import services as wallet_services
from wallets.models import Wallet
from wallets.selectors import wallet_discrepancies
from wallets.tests.helpers import balance, fund, ledger_of, treasurer

pytestmark = pytest.mark.django_db
D = Decimal
S = Order.Status


def _pay_by_wallet(client, order):
    return client.post(api(f"orders/{order.pk}/pay"), {"method": "wallet"}, format="json")


# --- the API ------------------------------------------------------------------------------


def test_pay_with_wallet_answers_with_the_paid_order():
    buyer = UserFactory()
    fund(buyer, "50.00")
    product = ProductFactory(stock=5, price=D("20.00"))
    order = make_order(user=buyer, lines=[(product.pk, 2)], status=S.PAYMENT_PENDING)

    response = _pay_by_wallet(client_for(buyer), order)

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["total"]) == (str(order.pk), "paid", "40.00")
    assert balance(buyer) == D("10.00")
    assert ledger_of(buyer)[-1] == ("payment", D("-40.00"), D("50.00"), D("10.00"))
    assert stock(product) == (3, 0)


@pytest.mark.parametrize(
    ("funds", "locked", "code"),
    [("39.99", False, "insufficient_funds"), ("100.00", True, "wallet_locked")],
)
def test_a_refused_wallet_payment_is_409_and_changes_nothing(funds, locked, code):
    buyer = UserFactory()
    wallet = fund(buyer, funds)
    if locked:
        wallet_services.set_wallet_lock(wallet=wallet, locked=True, actor=treasurer())
    product = ProductFactory(stock=5, price=D("20.00"))
    order = make_order(user=buyer, lines=[(product.pk, 2)], status=S.PAYMENT_PENDING)

    response = _pay_by_wallet(client_for(buyer), order)

    assert (response.status_code, response.json()["code"]) == (409, code)
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert balance(buyer) == D(funds)
    assert stock(product) == (3, 2)


@pytest.mark.parametrize(
    ("body", "expected"),
    [({"method": "bitcoin"}, 400), ({"method": "wallet", "tip": "1"}, 400), ([], 400)],
)
def test_pay_rejects_an_unknown_method_or_field(body, expected):
    buyer = UserFactory()
    fund(buyer, "100.00")
    order = make_order(user=buyer, status=S.PAYMENT_PENDING)
    response = client_for(buyer).post(api(f"orders/{order.pk}/pay"), body, format="json")
    assert response.status_code == expected
    assert fresh(order.pk).status == S.PAYMENT_PENDING


def test_only_the_owner_pays_from_their_wallet():
    buyer = UserFactory()
    order = make_order(user=buyer, status=S.PAYMENT_PENDING)
    other = UserFactory()
    fund(other, "100.00")
    assert _pay_by_wallet(client_for(other), order).status_code == 404
    staff = StaffFactory(is_superuser=True)
    fund(staff, "100.00")
    assert _pay_by_wallet(client_for(staff), order).status_code == 403
    assert (balance(other), balance(staff)) == (D("100.00"), D("100.00"))
    assert fresh(order.pk).status == S.PAYMENT_PENDING


@pytest.mark.parametrize("body", [{}, {"method": "card"}])
def test_pay_by_card_is_still_the_card_flow(stripe_sim, body):
    buyer = UserFactory()
    fund(buyer, "100.00")
    order = make_order(user=buyer)  # checkout could not reach Stripe
    response = client_for(buyer).post(api(f"orders/{order.pk}/pay"), body, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "payment_pending"
    assert response.json()["payment"]["payment_intent_id"].startswith("pi_")
    assert balance(buyer) == D("100.00")


# --- the card's PaymentIntent once the wallet paid ---------------------------------------------


def test_paying_from_the_wallet_cancels_the_open_payment_intent_after_the_commit(stripe_sim):
    buyer = UserFactory()
    fund(buyer, "50.00")
    order = checkout(ProductFactory(stock=5, price=D("10.00")), user=buyer)
    pi = payment_of(order).stripe_payment_intent_id

    with committed():
        wallet_services.pay_order(order=order, user=buyer)

    intent = retrieve(stripe_sim, pi)
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "duplicate")
    assert payment_of(order).status == Payment.Status.CANCELED
    assert fresh(order.pk).status == S.PAID
    assert balance(buyer) == D("40.00")
    assert Refund.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_card_payment_that_went_through_for_a_wallet_paid_order_is_refunded_in_full(
    stripe_sim_live,
):
    sim = stripe_sim_live
    buyer = UserFactory()
    fund(buyer, "50.00")
    product = ProductFactory(stock=5, price=D("10.00"))
    order = checkout(product, user=buyer)
    pi = payment_of(order).stripe_payment_intent_id
    settle(sim)
    sim.hold_events()
    confirm(sim, pi)  # the card went through; its webhook is on its way

    wallet_services.pay_order(order=order, user=buyer)
    # The cancel after the commit found the payment had succeeded: refunded at once.
    sim.release_events()
    settle(sim)

    order = fresh(order.pk)
    assert order.status == S.PAID  # paid once, by the wallet
    assert balance(buyer) == D("40.00")
    payment = payment_of(order)
    assert (payment.status, payment.amount_received, payment.amount_refunded) == (
        "succeeded",
        D("10.00"),
        D("10.00"),
    )
    (refund,) = sim_refunds(sim, pi)
    assert (refund["amount"], refund["status"]) == (1000, "succeeded")
    assert Refund.objects.get().reason == "Paid by card after the order was paid from the wallet."
    assert audit_count("payment.refund_requested", order.pk) == 1
    assert audit_count("order.mark_paid", order.pk) == 1
    assert audit_count("order.refund", order.pk) == 0
    refunded = OrderEmail.objects.get(order=order, kind="refunded")
    assert refunded.sent_at is not None
    (message,) = [m for m in mail.outbox if m.subject.startswith("A refund")]
    assert "already been paid from your wallet balance" in message.body
    assert stock(product) == (4, 0)
    assert stock_discrepancies() == []
    assert wallet_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_a_wallet_payment_racing_a_card_payment_pays_the_order_once(stripe_sim_live):
    sim = stripe_sim_live
    buyer = UserFactory()
    fund(buyer, "100.00")
    product = ProductFactory(stock=20, price=D("10.00"))
    orders = [checkout(product, user=buyer) for _ in range(6)]
    settle(sim)

    # Head starts (wallet, card) in seconds, so that each side gets to win: the wallet
    # before the card is confirmed (the PaymentIntent is cancelled), the card confirmed
    # first but its webhook not applied yet (refunded), the card's webhook applied first.
    delays = [(0, 0), (0, 0.3), (0, 0.6), (0.3, 0), (0.6, 0), (1.0, 0)]

    def pay_by_wallet(order, delay):
        time.sleep(delay)
        return wallet_services.pay_order(order=order, user=buyer).status

    def pay_by_card(order, delay):
        time.sleep(delay)
        return confirm(sim, payment_of(order).stripe_payment_intent_id)["status"]

    outcomes = run_concurrently(
        *[
            call
            for order, (wallet_delay, card_delay) in zip(orders, delays, strict=True)
            for call in (
                lambda o=order, d=wallet_delay: pay_by_wallet(o, d),
                lambda o=order, d=card_delay: pay_by_card(o, d),
            )
        ]
    )
    settle(sim)

    winners = Counter()
    for index, order in enumerate(orders):
        wallet_outcome, card_outcome = outcomes[2 * index], outcomes[2 * index + 1]
        order = fresh(order.pk)
        payment = payment_of(order)
        intent = retrieve(sim, payment.stripe_payment_intent_id)
        refunded = sum(r["amount"] for r in sim_refunds(sim, intent["id"]))
        by_wallet = wallet_outcome == ("ok", "paid")
        kept_by_card = intent["amount_received"] - refunded
        where = f"order {index}: wallet {wallet_outcome}, card {card_outcome}, {intent['status']}"
        assert order.status == S.PAID, where
        if by_wallet:
            # The card never took money, or gave all of it back.
            assert intent["status"] in ("canceled", "succeeded"), where
            assert kept_by_card == 0, where
            winners["wallet", intent["status"]] += 1
        else:
            assert wallet_outcome[0] == "error", where
            assert type(wallet_outcome[1]).__name__ == "InvalidTransition", where
            assert (intent["status"], kept_by_card) == ("succeeded", 1000), where
            winners["card"] += 1
    wallet_paid = sum(n for key, n in winners.items() if key != "card")
    assert balance(buyer) == D("100.00") - 10 * wallet_paid, dict(winners)
    assert stock(product) == (14, 0)
    assert stock_discrepancies() == []
    assert wallet_discrepancies() == []


def test_reconciliation_cancels_a_payment_intent_left_open_by_a_wallet_payment(
    stripe_sim, settings
):
    buyer = UserFactory()
    fund(buyer, "50.00")
    order = checkout(ProductFactory(stock=5, price=D("10.00")), user=buyer)
    pi = payment_of(order).stripe_payment_intent_id
    settings.STRIPE_API_BASE = CLOSED_PORT_URL
    with committed():
        wallet_services.pay_order(order=order, user=buyer)  # the cancel cannot reach Stripe
    settings.STRIPE_API_BASE = stripe_sim.url
    assert retrieve(stripe_sim, pi)["status"] == "requires_payment_method"

    assert services.reconcile_payments(older_than=timedelta(0)) == 0  # still paid

    assert retrieve(stripe_sim, pi)["status"] == "canceled"
    assert payment_of(order).status == Payment.Status.CANCELED
    assert fresh(order.pk).status == S.PAID


# --- refunds of wallet-paid orders ---------------------------------------------------------------


def _wallet_paid(buyer, product, quantity=2):
    order = make_order(user=buyer, lines=[(product.pk, quantity)], status=S.PAYMENT_PENDING)
    return wallet_services.pay_order(order=order, user=buyer)


def test_staff_refund_a_wallet_paid_order_to_the_wallet_through_the_api():
    buyer = UserFactory()
    fund(buyer, "50.00")
    product = ProductFactory(stock=5, price=D("20.00"))
    order = _wallet_paid(buyer, product)
    staff = client_for(StaffFactory(permissions=["payments.add_refund"]))

    partial = staff.post(api(f"orders/{order.pk}/refund"), {"amount": "15.00"}, format="json")
    assert (partial.status_code, partial.json()["status"]) == (200, "paid")
    too_much = staff.post(api(f"orders/{order.pk}/refund"), {"amount": "25.01"}, format="json")
    assert (too_much.status_code, too_much.json()["code"]) == (400, "invalid_refund")
    partial_restock = staff.post(
        api(f"orders/{order.pk}/refund"), {"amount": "1.00", "restock": True}, format="json"
    )
    assert partial_restock.status_code == 400
    rest = staff.post(api(f"orders/{order.pk}/refund"), {"restock": True}, format="json")
    assert (rest.status_code, rest.json()["status"]) == (200, "refunded")

    assert balance(buyer) == D("50.00")
    assert [row[:2] for row in ledger_of(buyer)] == [
        ("adjustment", D("50.00")),
        ("payment", D("-40.00")),
        ("refund", D("15.00")),
        ("refund", D("25.00")),
    ]
    assert stock(product) == (5, 0)
    assert fresh(order.pk).restocked is True
    assert audit_count("payment.refunded_to_wallet", order.pk) == 2
    assert Refund.objects.count() == 0 and Payment.objects.count() == 0
    emails = OrderEmail.objects.filter(order=order, kind="refunded").order_by("created_at")
    assert [(e.context["amount"], e.context["to_wallet"]) for e in emails] == [
        ("15.00", True),
        ("25.00", True),
    ]
    assert "Refunded to your wallet" in [step["label"] for step in order_timeline(order=order)]
    again = staff.post(api(f"orders/{order.pk}/refund"), {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert balance(buyer) == D("50.00")
    assert wallet_discrepancies() == []
    assert stock_discrepancies() == []


def test_a_wallet_refund_email_says_it_went_to_the_wallet():
    buyer = UserFactory()
    fund(buyer, "50.00")
    order = _wallet_paid(buyer, ProductFactory(stock=5, price=D("20.00")))
    with committed():
        services.refund_payment(order=order, actor=treasurer(), amount=D("5.00"))
    (message,) = [m for m in mail.outbox if m.subject.startswith("A refund")]
    assert "We refunded $5.00" in message.body
    assert "to your wallet; it is in your balance now." in message.body
    assert "card" not in message.body


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_of_a_wallet_paid_order_never_exceed_its_total():
    buyer = UserFactory()
    fund(buyer, "30.00")
    order = _wallet_paid(buyer, ProductFactory(stock=5, price=D("10.00")), quantity=3)
    staff = StaffFactory()

    outcomes = run_concurrently(
        *[lambda: services.refund_payment(order=order, actor=staff, amount=D("7.00"))] * 8
    )

    kinds = Counter("ok" if k == "ok" else type(v).__name__ for k, v in outcomes)
    assert kinds == {"ok": 4, "InvalidRefund": 4}
    assert balance(buyer) == D("28.00")
    assert fresh(order.pk).status == S.PAID
    assert Wallet.objects.get(user=buyer).entry_count == 6
    assert wallet_discrepancies() == []
