"""A randomized concurrent run of checkouts, card and wallet payments, declines, cancels,
expiries, refunds, wallet deposits and withdrawals against the simulator with live webhooks;
some products are merchants' (who also buy, withdraw, and earn); checkouts ship or not,
with coupons (one with few uses), shipping and tax. Afterwards stock, money (every order's
breakdown, PaymentIntent amounts, refunds, coupon uses), every wallet's ledger and every
order's earnings must add up."""

import random
import threading
from collections import Counter
from decimal import Decimal

import pytest
import stripe
from django.db.models import Sum

from core.exceptions import ShopError
from merchants.tests.factories import make_merchant
from orders import services as order_services
from orders.checkout import Delivery, place_order
from orders.models import Order
from orders.selectors import money_discrepancies, stock_discrepancies
from orders.tests.factories import make_due
from payments import services
from payments.models import Payment, Refund, WebhookEvent
from payments.selectors import payment_discrepancies
from payments.tests.helpers import sdk, settle
from pricing.models import Coupon
from pricing.tests.factories import (
    CouponFactory,
    ShippingMethodFactory,
    TaxRateFactory,
)
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import AddressFactory, ProductFactory, StaffFactory, UserFactory
from wallets import services as wallet_services
from wallets.models import Deposit, Earning, LedgerEntry, Withdrawal
from wallets.selectors import earning_discrepancies, wallet_discrepancies

THREADS = 8
OPS_PER_THREAD = 16
EXPECTED_FAILURES = (ShopError, stripe.CardError, stripe.InvalidRequestError)


@pytest.mark.django_db(transaction=True)
def test_random_concurrent_operations_keep_stock_and_money_consistent(stripe_sim_live):
    seed = random.randrange(2**32)
    sim = stripe_sim_live
    users = [UserFactory() for _ in range(6)]
    # Two of the buyers are merchants too: they sell, buy from each other and withdraw.
    merchants = [make_merchant(user=user) for user in users[:2]]
    products = [
        ProductFactory(stock=12, price=Decimal(price), merchant=merchant, requires_shipping=ships)
        for price, merchant, ships in (
            ("5.00", None, False),
            ("12.50", merchants[0], True),
            ("30.00", None, False),
            ("99.99", merchants[1], True),
            ("7.35", merchants[0], False),
        )
    ]
    addresses = {u.pk: AddressFactory(user=u, country="DE").pk for u in users}
    ShippingMethodFactory(code="std", price=Decimal("4.95"), free_over=Decimal("100.00"))
    TaxRateFactory(country="DE", rate=Decimal("19.00"))
    CouponFactory(code="FEW", kind=Coupon.Kind.FIXED, value=Decimal("7.50"), max_uses=4)
    CouponFactory(code="PCT", kind=Coupon.Kind.PERCENT, value=Decimal("12.5"))
    CouponFactory(code="SHIP", kind=Coupon.Kind.FREE_SHIPPING, max_uses_per_customer=1)
    staff = StaffFactory()
    treasurer = StaffFactory(is_superuser=True)
    order_ids: list = []
    ids_lock = threading.Lock()
    tally: Counter = Counter()
    unexpected: list = []

    def pick_order(rng, statuses=()):
        """Mostly an order in one of `statuses` (if any), else any order seen so far."""
        with ids_lock:
            known = list(order_ids)
        if statuses and rng.random() < 0.9:
            wanted = list(
                Order.objects.filter(pk__in=known, status__in=statuses).values_list("pk", flat=True)
            )
            if wanted:
                return rng.choice(wanted)
        return rng.choice(known) if known else None

    def op_checkout(rng):
        chosen = rng.sample(products, rng.randint(1, 2))
        user = rng.choice(users)
        delivery = Delivery(
            shipping_address_id=addresses[user.pk] if rng.random() < 0.9 else None,
            shipping_method="std",
            coupon=rng.choice([None, None, "few", "PCT", "ship"]),
        )
        order = place_order(
            user=user, lines=[(p.pk, rng.randint(1, 3)) for p in chosen], delivery=delivery
        )
        with ids_lock:
            order_ids.append(order.pk)

    def op_confirm(rng, payment_method):
        order_id = pick_order(rng, Order.HOLDING_STOCK)
        payment = Payment.objects.filter(order_id=order_id).first()
        if payment is None:
            return "skip"
        sdk(sim).v1.payment_intents.confirm(
            payment.stripe_payment_intent_id, params={"payment_method": payment_method}
        )

    def op_cancel(rng):
        order_id = pick_order(rng, Order.HOLDING_STOCK)
        if order_id is None:
            return "skip"
        order = Order.objects.select_related("user").get(pk=order_id)
        order_services.cancel_order(order=order, actor=order.user)

    def op_expire(rng):
        order_id = pick_order(rng, Order.HOLDING_STOCK)
        if order_id is not None:
            make_due(Order(pk=order_id))
        order_services.expire_due_orders()

    def op_refund(rng):
        order_id = pick_order(rng, (Order.Status.PAID, Order.Status.FULFILLED))
        if order_id is None:
            return "skip"
        order = Order.objects.get(pk=order_id)
        if rng.random() < 0.5:
            services.refund_payment(order=order, actor=staff, restock=rng.random() < 0.5)
        else:
            cents = rng.randint(1, int(order.total * 100))
            services.refund_payment(order=order, actor=staff, amount=Decimal(cents) / 100)

    def op_deposit(rng):
        deposit = services.start_deposit(
            user=rng.choice(users), amount=Decimal(rng.choice(["40.00", "120.00", "250.00"]))
        )
        if rng.random() < 0.8:  # the rest are left unpaid
            sdk(sim).v1.payment_intents.confirm(
                deposit.payment_intent_id, params={"payment_method": "pm_card_visa"}
            )

    def op_wallet_pay(rng):
        order_id = pick_order(rng, Order.HOLDING_STOCK)
        if order_id is None:
            return "skip"
        order = Order.objects.select_related("user").get(pk=order_id)
        wallet_services.pay_order(order=order, user=order.user)

    def op_withdraw(rng):
        amount = Decimal(rng.randint(100, 3000)) / 100
        wallet_services.request_withdrawal(user=rng.choice(users), amount=amount)

    def op_decide(rng):
        pending = list(Withdrawal.objects.filter(status="pending").values_list("pk", flat=True))
        if not pending:
            return "skip"
        decide = rng.choice([wallet_services.approve_withdrawal, wallet_services.reject_withdrawal])
        decide(withdrawal=Withdrawal(pk=rng.choice(pending)), actor=treasurer)

    operations = {
        "checkout": op_checkout,
        "pay": lambda rng: op_confirm(rng, "pm_card_visa"),
        "decline": lambda rng: op_confirm(rng, "pm_card_chargeDeclined"),
        "cancel": op_cancel,
        "expire": op_expire,
        "refund": op_refund,
        "deposit": op_deposit,
        "wallet_pay": op_wallet_pay,
        "withdraw": op_withdraw,
        "decide": op_decide,
    }
    names = list(operations)
    # Round one: mostly checkouts, deposits and payments; round two: mostly refunds,
    # withdrawals and endings.
    rounds = [[5, 4, 1, 1, 1, 1, 3, 3, 1, 0], [2, 3, 1, 1, 1, 5, 1, 3, 2, 2]]

    def worker(index, weights):
        rng = random.Random(seed + index + 100 * weights[0])
        for _ in range(OPS_PER_THREAD // 2):
            name = rng.choices(names, weights)[0]
            try:
                outcome = operations[name](rng) or "ok"
            except EXPECTED_FAILURES as exc:
                outcome = type(exc).__name__
            except Exception as exc:
                unexpected.append((name, repr(exc)))
                outcome = "unexpected"
            with ids_lock:
                tally[(name, outcome)] += 1

    outcomes = []
    for weights in rounds:
        outcomes += run_concurrently(*[lambda i=i, w=weights: worker(i, w) for i in range(THREADS)])
        settle(sim, timeout=20)  # the webhooks catch up between the rounds

    context = f"seed={seed} tally={dict(tally)}"
    assert outcomes == [("ok", None)] * (THREADS * len(rounds)), context
    assert unexpected == [], context
    assert sum(tally.values()) == THREADS * OPS_PER_THREAD
    assert tally[("checkout", "ok")] >= 1, context
    assert sum(n for (_, outcome), n in tally.items() if outcome != "skip") >= 80, context

    # Every event Stripe sent was delivered and processed exactly once.
    log = sim.event_log()
    assert {e["delivery"]["status"] for e in log} == {"delivered"}, context
    assert WebhookEvent.objects.count() == len(log), context
    assert WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).count() == 0

    assert stock_discrepancies() == [], context
    assert money_discrepancies() == [], context
    assert payment_discrepancies() == [], context
    assert Coupon.objects.get(code="FEW").uses <= 4
    assert wallet_discrepancies() == [], context
    # Every paid order credited its merchants (earnings + fees == their line totals),
    # every full refund reversed them, and nothing else earned anything.
    assert earning_discrepancies() == [], context
    sold_with_merchant_lines = Order.objects.filter(
        status__in=Order.SOLD, items__product__merchant__isnull=False
    ).distinct()
    assert sold_with_merchant_lines.count() == (
        Earning.objects.values("order_id").distinct().count()
    ), context
    wallet_paid = {
        entry.reference: -entry.amount for entry in LedgerEntry.objects.filter(type="payment")
    }
    for payment in Payment.objects.select_related("order"):
        at_stripe = sdk(sim).v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
        counted = payment.refunds.filter(status__in=Refund.COUNTED).aggregate(s=Sum("amount"))
        refunded_at_stripe = sum(
            r.amount
            for r in sdk(sim)
            .v1.refunds.list(
                params={"payment_intent": payment.stripe_payment_intent_id, "limit": 100}
            )
            .data
        )
        order = payment.order
        where = f"{context} order={order.pk} {order.status} payment={payment.pk}"
        assert 0 <= payment.amount_refunded <= payment.amount_received, where
        assert payment.amount_refunded == (counted["s"] or 0), where
        assert payment.status == at_stripe.status, where
        assert int(payment.amount_refunded * 100) == refunded_at_stripe, where
        if at_stripe.status == "succeeded":
            assert payment.amount_received == order.total, where
            # Money taken: the order was sold, or the money is (being) given back in full.
            assert order.status in Order.SOLD or payment.refundable == 0, where
        else:
            assert payment.amount_received == 0, where
            # Nothing taken by card: the order was not sold, or the wallet paid it.
            assert order.status not in Order.SOLD or str(order.pk) in wallet_paid, where
        if order.status == Order.Status.REFUNDED:
            assert payment.refundable == 0, where
    assert Refund.objects.filter(stripe_refund_id__isnull=True).count() == 0, context

    # Every order paid from a wallet was paid once, its total; refunds never exceed it.
    for order in Order.objects.filter(pk__in=list(wallet_paid)):
        refunded = sum(
            entry.amount
            for entry in LedgerEntry.objects.filter(type="refund", reference=str(order.pk))
        )
        where = f"{context} order={order.pk} {order.status}"
        assert order.status in Order.SOLD, where
        assert wallet_paid[str(order.pk)] == order.total, where
        assert 0 <= refunded <= order.total, where
        assert (refunded == order.total) == (order.status == Order.Status.REFUNDED), where
    # Deposits: credited exactly when Stripe has their money, and exactly once.
    for deposit in Deposit.objects.all():
        at_stripe = sdk(sim).v1.payment_intents.retrieve(deposit.payment_intent_id)
        credits = LedgerEntry.objects.filter(type="deposit", reference=str(deposit.pk))
        where = f"{context} deposit={deposit.pk} {deposit.status} {at_stripe.status}"
        assert (deposit.status == "succeeded") == (at_stripe.status == "succeeded"), where
        assert list(credits.values_list("amount", flat=True)) == (
            [deposit.amount] if deposit.status == "succeeded" else []
        ), where
    # Withdrawals: taken once each; given back once each rejected one.
    for withdrawal in Withdrawal.objects.all():
        entries = dict(
            LedgerEntry.objects.filter(reference=str(withdrawal.pk)).values_list("type", "amount")
        )
        expected = {"withdrawal": -withdrawal.amount}
        if withdrawal.status == "rejected":
            expected["withdrawal_reversal"] = withdrawal.amount
        assert entries == expected, f"{context} withdrawal={withdrawal.pk}"
