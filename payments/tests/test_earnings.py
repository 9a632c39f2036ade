"""Merchant earnings when orders are paid and refunded through payments: by card (the
webhook delivered concurrently, reconciliation), from the wallet, refunds of either;
and under real concurrency, where the wallet rows of customers and merchants are locked
in one order (no deadlock, every balance exact)."""

import urllib.request
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from core.tests.helpers import committed
from merchants.tests.factories import make_merchant
from orders import services as order_services
from orders.models import Order
from orders.selectors import stock_discrepancies
from orders.tests.factories import make_order
from payments import services
from payments.models import WebhookEvent
from payments.tests.helpers import (
    WEBHOOK_PATH,
    checkout,
    confirm,
    fresh,
    paid_order,
    payment_of,
    settle,
    signed,
)
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory
from wallets import services as wallet_services
from wallets.models import Earning, LedgerEntry
from wallets.selectors import earning_discrepancies, wallet_discrepancies
from wallets.tests.helpers import balance, fund, ledger_of

D = Decimal
S = Order.Status


def _merchant_with(price, stock=50):
    merchant = make_merchant(user=UserFactory())
    return merchant, ProductFactory(merchant=merchant, price=D(price), stock=stock)


def _earnings_of(user) -> list[tuple[str, Decimal]]:
    return [
        (kind, amount)
        for kind, amount, _, _ in ledger_of(user)
        if kind in ("earning", "earning_reversal")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_card_success_delivered_six_times_with_reconciliation_credits_once(
    stripe_sim_live, live_server, settings
):
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    sim = stripe_sim_live
    ann, pot = _merchant_with("12.35")
    order = checkout(pot, 2)
    settle(sim)
    sim.set_webhooks_enabled(False)  # the deliveries are ours to make
    intent = confirm(sim, payment_of(order).stripe_payment_intent_id)
    event = next(
        e
        for e in sim.events
        if e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == intent["id"]
    )
    body, signature = signed(event)
    url = f"{live_server.url}{WEBHOOK_PATH}"

    def deliver():
        request = urllib.request.Request(  # noqa: S310 - http to the live server
            url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status

    def reconcile():
        return services.reconcile_payments(older_than=timedelta(0))

    outcomes = run_concurrently(*[deliver for _ in range(6)], reconcile)

    assert outcomes[:6] == [("ok", 200)] * 6
    assert fresh(order.pk).status == S.PAID
    # 24.70, fee 2.47.
    assert _earnings_of(ann.user) == [("earning", D("22.23"))]
    earning = Earning.objects.get(order=order)
    assert (earning.gross, earning.fee, earning.net) == (D("24.70"), D("2.47"), D("22.23"))
    assert WebhookEvent.objects.exclude(status="processed").count() == 0
    assert earning_discrepancies() == []
    assert wallet_discrepancies() == []


@pytest.mark.django_db
def test_a_full_card_refund_reverses_the_earnings_a_partial_one_does_not(stripe_sim, settings):
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    ann, pot = _merchant_with("30.00")
    staff = StaffFactory(is_superuser=True)
    order = paid_order(stripe_sim, pot)
    assert balance(ann.user) == D("27.00")

    with committed():
        services.refund_payment(order=order, actor=staff, amount=D("10.00"))
    assert balance(ann.user) == D("27.00")
    with committed():
        services.refund_payment(order=order, actor=staff)

    assert fresh(order.pk).status == S.REFUNDED
    assert _earnings_of(ann.user) == [("earning", D("27.00")), ("earning_reversal", D("-27.00"))]
    assert balance(ann.user) == D("0.00")
    assert earning_discrepancies() == []


@pytest.mark.django_db
def test_refunds_of_a_wallet_paid_order_reverse_the_earnings_on_the_full_one(settings):
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    ann, pot = _merchant_with("10.00")
    buyer = UserFactory()
    fund(buyer, "10.00")
    order = make_order(user=buyer, lines=[(pot.pk, 1)], status=S.PAYMENT_PENDING)
    wallet_services.pay_order(order=order, user=buyer)
    staff = StaffFactory(is_superuser=True)

    with committed():
        services.refund_payment(order=order, actor=staff, amount=D("4.00"))
    assert balance(ann.user) == D("9.00")
    with committed():
        services.refund_payment(order=order, actor=staff, restock=False)
    assert (balance(ann.user), balance(buyer)) == (D("0.00"), D("10.00"))
    assert fresh(order.pk).status == S.REFUNDED
    assert earning_discrepancies() == []
    assert wallet_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_merchants_buying_from_each_other_by_wallet_concurrently_never_deadlock(settings):
    """Each wallet payment locks the buyer's wallet and the seller's: with two merchants
    buying each other's goods at once (and withdrawing), locks taken in any other order
    than by id would deadlock; here every payment goes through and every cent adds up."""
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    ann, anns_pot = _merchant_with("10.00", stock=100)
    bob, bobs_cup = _merchant_with("10.00", stock=100)
    fund(ann.user, "200.00")
    fund(bob.user, "200.00")
    rounds = 8
    ann_orders = [
        make_order(user=ann.user, lines=[(bobs_cup.pk, 1)], status=S.PAYMENT_PENDING)
        for _ in range(rounds)
    ]
    bob_orders = [
        make_order(user=bob.user, lines=[(anns_pot.pk, 1)], status=S.PAYMENT_PENDING)
        for _ in range(rounds)
    ]

    calls = []
    for ann_order, bob_order in zip(ann_orders, bob_orders, strict=True):
        calls.append(lambda o=ann_order: wallet_services.pay_order(order=o, user=ann.user).status)
        calls.append(lambda o=bob_order: wallet_services.pay_order(order=o, user=bob.user).status)
    calls.append(lambda: wallet_services.request_withdrawal(user=ann.user, amount=D("5.00")).status)
    calls.append(lambda: wallet_services.request_withdrawal(user=bob.user, amount=D("5.00")).status)

    outcomes = run_concurrently(*calls)

    assert Counter(outcomes) == {("ok", "paid"): 2 * rounds, ("ok", "pending"): 2}
    # 200 - 8 x 10.00 paid + 8 x 9.00 earned - 5.00 withdrawn.
    assert balance(ann.user) == balance(bob.user) == D("187.00")
    assert Earning.objects.count() == 2 * rounds
    assert LedgerEntry.objects.filter(type="earning").count() == 2 * rounds
    assert earning_discrepancies() == []
    assert wallet_discrepancies() == []
    assert stock_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_full_refunds_and_payments_keep_earnings_exact(settings):
    """Full refunds (reversing earnings) race wallet payments (crediting them) on one
    merchant's wallet; the merchant withdrew everything first, so reversals take it
    below zero, which only they may."""
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    ann, pot = _merchant_with("10.00", stock=100)
    buyer = UserFactory()
    fund(buyer, "100.00")
    paid = [make_order(user=buyer, lines=[(pot.pk, 1)], status=S.PAID) for _ in range(5)]
    wallet_services.request_withdrawal(user=ann.user, amount=D("45.00"))
    pending = [
        make_order(user=buyer, lines=[(pot.pk, 1)], status=S.PAYMENT_PENDING) for _ in range(5)
    ]
    staff = StaffFactory(is_superuser=True)

    outcomes = run_concurrently(
        *[lambda o=o: wallet_services.pay_order(order=o, user=buyer).status for o in pending],
        *[lambda o=o: order_services.refund_order(order=o, actor=staff).status for o in paid],
    )

    assert Counter(outcomes) == {("ok", "paid"): 5, ("ok", "refunded"): 5}
    # 5 earnings withdrawn, 5 reversed, 5 new earned: -45.00 + 45.00.
    assert balance(ann.user) == D("0.00")
    assert balance(buyer) == D("50.00")
    assert earning_discrepancies() == []
    assert wallet_discrepancies() == []
