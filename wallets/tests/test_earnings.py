"""Merchant earnings (wallets.earnings): credited in the transaction that makes an order
paid, reversed by a full refund, and the invariant earnings + fees == the merchants'
line totals, checked by earning_discrepancies()."""

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from merchants.tests.factories import make_merchant
from orders import services as order_services
from orders.models import Order
from orders.selectors import stock_discrepancies
from orders.tests.factories import make_order
from shop.tests.factories import ProductFactory, UserFactory
from wallets import ledger, services
from wallets.exceptions import InsufficientFunds, InvalidAmount
from wallets.models import Earning, LedgerEntry, Wallet
from wallets.selectors import earning_discrepancies, wallet_discrepancies
from wallets.tests.helpers import balance, fund, ledger_of

pytestmark = pytest.mark.django_db
D = Decimal
S = Order.Status


def _merchant_with(*prices, stock=20):
    merchant = make_merchant(user=UserFactory())
    products = [ProductFactory(merchant=merchant, price=D(p), stock=stock) for p in prices]
    return merchant, products


def test_approval_makes_the_merchants_wallet_a_merchant_wallet():
    user = UserFactory()
    fund(user, "5.00")  # a customer's wallet before
    make_merchant(user=user)
    wallet = Wallet.objects.get(user=user)
    assert (wallet.kind, wallet.balance) == ("merchant", D("5.00"))


def test_a_paid_order_credits_each_merchant_their_lines_less_the_fee(settings):
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    ann, (pot, cup) = _merchant_with("10.05", "3.35")
    bob, (lamp,) = _merchant_with("0.05")
    shops = ProductFactory(price=D("50.00"))

    order = make_order(lines=[(pot.pk, 2), (cup.pk, 1), (lamp.pk, 1), (shops.pk, 1)], status=S.PAID)

    earnings = {e.merchant_id: e for e in Earning.objects.filter(order=order)}
    # Ann: 20.10 + 3.35 = 23.45, fee 2.345 -> 2.35 (half up). Bob: 0.05, fee 0.005 -> 0.01.
    assert {m: (e.gross, e.fee, e.net, e.fee_percent) for m, e in earnings.items()} == {
        ann.pk: (D("23.45"), D("2.35"), D("21.10"), D("10.00")),
        bob.pk: (D("0.05"), D("0.01"), D("0.04"), D("10.00")),
    }
    assert ledger_of(ann.user) == [("earning", D("21.10"), D("0.00"), D("21.10"))]
    assert ledger_of(bob.user) == [("earning", D("0.04"), D("0.00"), D("0.04"))]
    assert LedgerEntry.objects.get(wallet__user=ann.user).reference == str(order.pk)
    assert earnings[ann.pk].entry.wallet.user == ann.user
    # The shop's own line earns nobody anything; the customer's wallet is untouched.
    assert not Wallet.objects.filter(user=order.user).exists()
    assert earning_discrepancies() == []
    assert wallet_discrepancies() == []


def test_the_fee_follows_the_setting_and_zero_lines_credit_nothing(settings):
    settings.MARKETPLACE_FEE_PERCENT = D("0")
    ann, (pot,) = _merchant_with("7.00")
    order = make_order(lines=[(pot.pk, 1)], status=S.PAID)
    assert Earning.objects.get(order=order).net == D("7.00")

    settings.MARKETPLACE_FEE_PERCENT = D("100")
    order = make_order(lines=[(pot.pk, 1)], status=S.PAID)
    earning = Earning.objects.get(order=order)
    assert (earning.fee, earning.net, earning.entry) == (D("7.00"), D("0.00"), None)
    assert balance(ann.user) == D("7.00")
    assert earning_discrepancies() == []


@pytest.mark.parametrize("status", [S.CREATED, S.PAYMENT_PENDING, S.CANCELLED, S.EXPIRED, S.FAILED])
def test_orders_never_paid_earn_nothing(status):
    _, (pot,) = _merchant_with("9.00")
    make_order(lines=[(pot.pk, 1)], status=status)
    assert Earning.objects.count() == 0
    assert LedgerEntry.objects.filter(type="earning").count() == 0
    assert earning_discrepancies() == []


def test_a_wallet_payment_credits_the_earnings_in_its_transaction(settings, monkeypatch):
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    ann, (pot,) = _merchant_with("20.00")
    buyer = UserFactory()
    fund(buyer, "50.00")
    order = make_order(user=buyer, lines=[(pot.pk, 1)], status=S.PAYMENT_PENDING)

    # An earning that cannot be credited undoes the payment: one transaction.
    real_post = ledger.post

    def failing_post(**kwargs):
        if kwargs["type"] == "earning":
            raise InvalidAmount("boom")
        return real_post(**kwargs)

    monkeypatch.setattr(ledger, "post", failing_post)
    with pytest.raises(InvalidAmount):
        services.pay_order(order=order, user=buyer)
    assert Order.objects.get(pk=order.pk).status == S.PAYMENT_PENDING
    assert balance(buyer) == D("50.00")
    assert Earning.objects.count() == 0

    monkeypatch.setattr(ledger, "post", real_post)
    services.pay_order(order=order, user=buyer)
    assert balance(buyer) == D("30.00")
    assert balance(ann.user) == D("18.00")
    assert earning_discrepancies() == []


def test_a_merchant_buying_their_own_product_pays_and_earns_in_one_wallet(settings):
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    ann, (pot,) = _merchant_with("20.00")
    fund(ann.user, "20.00")
    order = make_order(user=ann.user, lines=[(pot.pk, 1)], status=S.PAYMENT_PENDING)

    services.pay_order(order=order, user=ann.user)

    assert [row[:2] for row in ledger_of(ann.user)] == [
        ("adjustment", D("20.00")),
        ("payment", D("-20.00")),
        ("earning", D("18.00")),
    ]
    assert wallet_discrepancies() == []
    assert earning_discrepancies() == []


def test_a_late_payment_that_recovers_the_order_credits_the_earnings():
    ann, (pot,) = _merchant_with("10.00")
    order = make_order(lines=[(pot.pk, 1)], status=S.EXPIRED)
    assert order_services.recover_late_payment(order=order) is True
    assert Earning.objects.get(order=order).net == D("9.00")
    assert balance(ann.user) == D("9.00")
    assert earning_discrepancies() == []


def test_a_late_payment_that_finds_the_stock_gone_credits_nothing():
    ann, (pot,) = _merchant_with("10.00", stock=1)
    order = make_order(lines=[(pot.pk, 1)], status=S.EXPIRED)
    make_order(lines=[(pot.pk, 1)], status=S.PAID)  # the last unit went to someone else
    before = Earning.objects.count()

    assert order_services.recover_late_payment(order=order) is False

    assert Earning.objects.count() == before
    assert not Earning.objects.filter(order=order).exists()
    assert balance(ann.user) == D("9.00")  # the other order's earning only
    assert earning_discrepancies() == []


def test_a_full_refund_reverses_the_earnings_even_below_zero(settings):
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    ann, (pot,) = _merchant_with("10.00")
    order = make_order(lines=[(pot.pk, 1)], status=S.PAID)
    services.request_withdrawal(user=ann.user, amount=D("9.00"))  # all of it, paid out
    assert balance(ann.user) == D("0.00")

    order_services.refund_order(order=order, restock=True)

    assert ledger_of(ann.user)[-1] == ("earning_reversal", D("-9.00"), D("0.00"), D("-9.00"))
    assert Wallet.objects.get(user=ann.user).kind == "merchant"
    # Below zero it cannot withdraw; its ledger is sound all the same.
    with pytest.raises(InsufficientFunds):
        services.request_withdrawal(user=ann.user, amount=D("0.01"))
    assert wallet_discrepancies() == []
    assert earning_discrepancies() == []
    assert stock_discrepancies() == []


def test_customers_wallets_still_never_go_below_zero():
    buyer = UserFactory()
    fund(buyer, "1.00")
    with pytest.raises(InsufficientFunds):
        services.request_withdrawal(user=buyer, amount=D("1.01"))
    assert balance(buyer) == D("1.00")


def test_the_invariant_names_what_is_broken(settings):
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    _, (pot,) = _merchant_with("10.00")
    order = make_order(lines=[(pot.pk, 1)], status=S.PAID)
    earning = Earning.objects.get(order=order)

    Earning.objects.filter(pk=earning.pk).update(gross=D("11.00"), fee=D("2.00"))
    (problem,) = earning_discrepancies()
    assert problem["order_id"] == str(order.pk)
    assert problem["broken"] == [
        "an earning's gross != the merchant's line totals",
        "earnings + fees != the merchants' line totals",
    ]

    Earning.objects.filter(pk=earning.pk).delete()
    (problem,) = earning_discrepancies()
    assert problem["broken"] == [
        "a merchant with lines was not credited",
        "an earning entry without an earning",
        "earnings + fees != the merchants' line totals",
    ]


def test_the_nightly_drift_check_reports_broken_earnings():
    _, (pot,) = _merchant_with("10.00")
    order = make_order(lines=[(pot.pk, 1)], status=S.PAID)
    assert services.check_wallet_drift() == []
    Earning.objects.filter(order=order).update(gross=D("11.00"), fee=D("2.00"))

    (problem,) = services.check_wallet_drift()

    assert problem["order_id"] == str(order.pk)
    event = AuditEvent.objects.get(action="wallet.drift_detected")
    assert (event.entity_type, event.entity_id) == ("order", str(order.pk))


def test_staff_read_the_earnings_in_the_admin(staff_client):
    ann, (pot,) = _merchant_with("10.00")
    make_order(lines=[(pot.pk, 1)], status=S.PAID)
    page = staff_client.get(reverse("admin:wallets_earning_changelist"))
    assert page.status_code == 200
    assert ann.display_name in page.content.decode()
    assert staff_client.get(reverse("admin:wallets_earning_add")).status_code == 403
