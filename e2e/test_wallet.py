# ruff: noqa: S101
# (pytest's asserts, as ruff allows in the apps' tests/)
"""End to end in headless Chromium: a customer tops up the wallet by card through the
Stripe simulator, pays an order from the balance, reads the ledger and withdraws."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from e2e.test_storefront import GOOD_CARD, add_to_cart, check_out, log_in
from orders.models import Order
from shop.tests.factories import ProductFactory, UserFactory
from wallets.models import Deposit, Withdrawal
from wallets.selectors import wallet_discrepancies
from wallets.tests.helpers import ledger_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]
D = Decimal


def balance(page):
    return page.get_by_test_id("wallet-balance")


def messages(page):
    return page.locator(".messages")


def test_top_up_by_card_pay_from_the_wallet_read_the_ledger_and_withdraw(new_page, stripe_sim_live):
    customer = UserFactory()
    ProductFactory(name="Brass pen", price=D("39.99"), stock=3)
    page = new_page()
    log_in(page, customer.email)

    page.get_by_test_id("wallet-link").click()
    expect(page.get_by_role("heading", name="My wallet")).to_be_visible()
    expect(balance(page)).to_have_text("$0.00")

    # Top up 50.00 by card: the deposit's card form is the payment page's.
    page.get_by_label("Top-up amount").fill("50.00")
    page.get_by_role("button", name="Top up").click()
    expect(page).to_have_url(re.compile(r"/wallet/deposits/[0-9a-f-]{36}/pay/$"))
    page.get_by_label("Card number").fill(GOOD_CARD)
    page.get_by_role("button", name="Pay $50.00").click()
    expect(page).to_have_url(re.compile(r"/wallet/$"))
    expect(messages(page)).to_contain_text("$50.00 was added to your balance.")
    expect(balance(page)).to_have_text("$50.00")

    # Buy the pen and pay it from the balance.
    add_to_cart(page, "Brass pen", 1)
    order = check_out(page)
    wallet_option = page.get_by_test_id("pay-with-wallet")
    expect(wallet_option).to_contain_text("Your balance: $50.00.")
    wallet_option.get_by_role("button", name="Pay $39.99 from my balance").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order.pk}/thank-you/$"))
    expect(messages(page)).to_contain_text("Paid from your wallet balance.")
    expect(page.get_by_test_id("confirmation")).to_contain_text(str(order.pk)[:8])

    # The ledger: the payment on top of the deposit, each with its balance before/after.
    page.get_by_test_id("wallet-link").click()
    expect(balance(page)).to_have_text("$10.01")
    entries = page.get_by_test_id("ledger-entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text("Payment")
    expect(entries.nth(0)).to_contain_text(f"Order {str(order.pk)[:8]}")
    expect(entries.nth(0).locator("td.num")).to_have_text(["-$39.99", "$50.00", "$10.01"])
    expect(entries.nth(1)).to_contain_text("Deposit")
    expect(entries.nth(1).locator("td.num")).to_have_text(["$50.00", "$0.00", "$50.00"])

    # Withdraw what is left: it leaves the balance now and waits for staff.
    page.get_by_label("Withdrawal amount").fill("10.01")
    page.get_by_role("button", name="Request withdrawal").click()
    expect(messages(page)).to_contain_text("Withdrawal of $10.01 requested")
    expect(balance(page)).to_have_text("$0.00")
    expect(page.get_by_test_id("withdrawal")).to_contain_text("Pending")
    expect(page.get_by_test_id("ledger-entry")).to_have_count(3)

    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert Deposit.objects.get().status == Deposit.Status.SUCCEEDED
    assert Withdrawal.objects.get().status == Withdrawal.Status.PENDING
    assert ledger_of(customer) == [
        ("deposit", D("50.00"), D("0.00"), D("50.00")),
        ("payment", D("-39.99"), D("50.00"), D("10.01")),
        ("withdrawal", D("-10.01"), D("10.01"), D("0.00")),
    ]
    stripe_sim_live.wait_for_deliveries(timeout=10)  # late webhooks change nothing
    assert ledger_of(customer)[-1][3] == D("0.00")
    assert wallet_discrepancies() == []
