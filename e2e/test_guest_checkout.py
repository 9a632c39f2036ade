# ruff: noqa: S101, S105
# (pytest's asserts and a test password, as ruff allows in the apps' tests/)
"""End to end in headless Chromium: a visitor buys as a guest, then makes the guest
account a full one from the thank-you page and signs in with it."""

import re

import pytest
from playwright.sync_api import expect

from e2e.test_header_and_axe import assert_accessible
from e2e.test_storefront import GOOD_CARD, PAID_WAIT, add_to_cart, log_in, pay, products
from orders.models import Order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

__all__ = ["products"]  # the fixture, shared with the storefront's journeys

NEW_PASSWORD = "a-long-passphrase"


def test_a_guest_buys_then_creates_an_account_and_signs_in_with_it(
    new_page, products, stripe_sim_live
):
    page = new_page()
    add_to_cart(page, "Enamel camp mug", 2)
    page.get_by_role("link", name="Check out as a guest").click()
    assert_accessible(page, "guest checkout form")
    page.get_by_label("Email address").fill("grace@example.com")
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Address line 1").fill("Unter den Linden 1")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Postal code").fill("10117")
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("button", name="Continue to shipping").click()

    page.get_by_label(re.compile(r"^Free delivery:")).check()
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_test_id("address")).to_contain_text("Unter den Linden 1")
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}/pay/$"))
    order = Order.objects.get(pk=page.url.split("/")[-3])
    pay(page, GOOD_CARD)

    expect(page).to_have_url(re.compile(rf"/orders/{order.pk}/thank-you/$"), timeout=PAID_WAIT)
    expect(page.get_by_test_id("confirmation")).to_contain_text(order.short_id)
    expect(page.get_by_test_id("wallet-link")).to_have_count(0)  # a guest has orders only
    expect(page.get_by_test_id("guest-link")).to_have_attribute(
        "href", re.compile(r"/orders/link/[^/]+/$")
    )
    assert_accessible(page, "thank-you page of a guest")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator(".messages")).to_contain_text("Your account grace@example.com is ready")
    expect(page.get_by_test_id("wallet-link")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    log_in(page, "grace@example.com", NEW_PASSWORD)
    page.get_by_role("link", name="My orders").click()
    expect(page.get_by_role("link", name=re.compile(order.short_id))).to_be_visible()
    order.refresh_from_db()
    assert (order.status, order.user.is_guest) == (Order.Status.PAID, False)
