# ruff: noqa: S101
"""In headless Chromium: the header on a phone, and axe-core on every storefront page."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from e2e import test_storefront
from e2e.test_storefront import GOOD_CARD, add_to_cart, check_out, expect_thank_you, log_in, pay
from pages.defaults import add_default_pages
from pages.models import Page
from shop.tests.factories import StaffFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]
products = test_storefront.products  # the same four products (a fixture)

PHONE_390 = {"width": 390, "height": 844}
HEADER_CHECK = """() => {
  const header = document.querySelector(".site-header");
  const targets = [...header.querySelectorAll("a, button")].map((el) => {
    const box = el.getBoundingClientRect();
    return {text: el.textContent.trim().replace(/\\s+/g, " "), width: box.width,
            height: box.height, right: box.right, top: box.top};
  });
  return {
    pageWidth: document.documentElement.scrollWidth,
    headerHeight: header.getBoundingClientRect().height,
    rows: new Set(targets.map((t) => Math.round(t.top))).size,
    targets,
  };
}"""


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["Shop", "Catalog", "Cart 0", "My orders", "Wallet", "Sell", "Admin",
                "Password", "Log out", "Deutsch"]),
        ("de", ["Shop", "Katalog", "Warenkorb 0", "Bestellungen", "Guthaben", "Verkaufen",
                "Verwaltung", "Passwort", "Abmelden", "English"]),
    ],
)  # fmt: skip
def test_the_logged_in_header_fits_a_390_px_phone_with_44_px_tap_targets(
    new_page, live_server, language, texts
):
    staff = StaffFactory()  # the longest header: the Admin link too
    page = new_page(viewport=PHONE_390)
    cookie = {"name": "django_language", "value": language, "url": live_server.url}
    page.context.add_cookies([cookie])
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(staff.email)
    page.locator("#id_password").fill(test_storefront.PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))

    header = page.evaluate(HEADER_CHECK)

    assert header["pageWidth"] == 390  # nothing overflows sideways
    # Two deliberate rows: brand and shopping links, then the account's links.
    assert header["rows"] == 2
    assert header["headerHeight"] <= 2 * 44 + 16
    small = [t for t in header["targets"] if t["height"] < 44 or t["width"] < 44]
    assert small == []
    assert max(t["right"] for t in header["targets"]) <= 390
    assert [t["text"] for t in header["targets"]] == texts
    # Admin, Password and Log out are icons here: their hidden labels still name them.
    banner = page.get_by_role("banner")
    for role, name in zip(["link", "link", "button"], texts[-4:-1], strict=True):
        expect(banner.get_by_role(role, name=name, exact=True)).to_be_visible()
    assert_accessible(page, f"logged-in header on a phone ({language})")


AXE = Axe()


def assert_accessible(page, state: str) -> None:
    """axe-core's every rule (WCAG 2 A and AA, best practices) on the page as it is now."""
    results = AXE.run(page)
    assert results.violations_count == 0, f"{state} ({page.url}):\n{results.generate_report()}"


def test_the_check_finds_violations_when_there_are_some(new_page):
    page = new_page()
    page.set_content('<html><body><img src="/x.png"><input name="q"></body></html>')

    results = AXE.run(page)

    rules = {violation["id"] for violation in results.response["violations"]}
    assert {"image-alt", "label", "html-has-lang", "document-title"} <= rules


def test_every_storefront_page_has_no_axe_violations(new_page, products, stripe_sim_live):
    add_default_pages(Page)
    customer = UserFactory()
    page = new_page()

    for url, state in [
        ("/", "catalog"),
        ("/?q=mug", "catalog search"),
        (products["mug"].get_absolute_url(), "product"),
        (products["cap"].get_absolute_url(), "sold-out product"),
        ("/cart/", "empty cart"),
        ("/accounts/login/", "login"),
        ("/accounts/register/", "register"),
        ("/accounts/password/reset/", "password reset"),
        ("/pages/contact/", "contact page"),
        ("/pages/shipping-returns/", "shipping and returns page"),
        ("/pages/privacy/", "privacy page"),
        ("/nowhere/", "not found"),
    ]:
        page.goto(url)
        assert_accessible(page, state)

    page.goto("/accounts/login/")
    page.get_by_role("button", name="Log in").click()  # empty: the form's errors
    assert_accessible(page, "login with errors")

    log_in(page, customer.email)
    assert_accessible(page, "catalog with a message, signed in")
    add_to_cart(page, "Enamel camp mug", 2)
    assert_accessible(page, "cart with a line")
    order = check_out(page, on_step=lambda step: assert_accessible(page, f"checkout: {step}"))
    assert_accessible(page, "pay page")
    pay(page, GOOD_CARD)
    expect_thank_you(page, order)
    assert_accessible(page, "thank-you page")
    page.get_by_role("link", name="View your order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    assert_accessible(page, "order detail, paid")
    page.goto("/orders/")
    assert_accessible(page, "order list")
    page.goto("/accounts/password/change/")
    assert_accessible(page, "password change")

    # German, on a phone.
    phone = new_page(viewport=PHONE_390)
    phone.goto("/")
    phone.get_by_test_id("language-de").click()
    expect(phone.locator("html")).to_have_attribute("lang", "de")
    assert_accessible(phone, "German catalog on a phone")
    phone.goto(products["mug"].get_absolute_url())
    assert_accessible(phone, "German product on a phone")
    phone.goto("/pages/privacy/")
    assert_accessible(phone, "German privacy page on a phone")
