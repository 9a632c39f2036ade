# ruff: noqa: S101
"""End to end in headless Chromium: a merchant applies, staff approve, the merchant puts
a product on sale, a customer buys it by card, and the merchant sees the sale and the
earning."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from e2e.test_storefront import (
    A11Y_CHECK,
    GOOD_CARD,
    PASSWORD,
    PHONE,
    add_to_cart,
    check_out,
    expect_thank_you,
    log_in,
    pay,
)
from merchants.models import Merchant
from merchants.tests.factories import make_merchant
from orders.models import Order
from orders.tests.factories import make_order
from pricing.tests.factories import ShippingMethodFactory
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory
from shop.variants import create_parent_product, create_variant
from wallets.models import Earning

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def test_a_merchant_is_approved_sells_a_product_and_sees_the_sale_and_earning(
    new_page, stripe_sim_live, settings
):
    settings.MARKETPLACE_FEE_PERCENT = Decimal("10")
    # A merchant's goods ship; the shop ships to Germany for free, so the sale is 40.00.
    ShippingMethodFactory(
        code="free", name="Free delivery", price=Decimal("0.00"), countries=["DE"]
    )
    seller = UserFactory()
    customer = UserFactory()
    staff = StaffFactory(is_superuser=True)

    merchant_page = new_page()
    log_in(merchant_page, seller.email)
    merchant_page.get_by_test_id("merchant-link").click()
    merchant_page.get_by_label("Shop name").fill("Ann's Pottery")
    merchant_page.get_by_role("button", name="Apply").click()
    expect(merchant_page.get_by_test_id("merchant-status")).to_contain_text("waiting")

    admin = new_page()
    admin.goto("/admin/merchants/merchant/")
    admin.get_by_label("Email address").fill(staff.email)
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    admin.locator("input[name=_selected_action]").first.check()
    admin.locator("select[name=action]").select_option("approve_selected")
    admin.get_by_role("button", name="Go").click()
    expect(admin.locator(".messagelist")).to_contain_text("Ann's Pottery: approved.")
    assert Merchant.objects.get(user=seller).status == "approved"

    merchant_page.get_by_test_id("merchant-link").click()
    merchant_page.get_by_role("link", name="Add a product", exact=True).click()
    merchant_page.get_by_label("SKU").fill("POT-1")
    merchant_page.get_by_label("Name").fill("Stoneware teapot")
    merchant_page.get_by_label("Price").fill("20.00")
    merchant_page.get_by_label("Units in stock").fill("5")
    merchant_page.get_by_role("button", name="Put on sale").click()
    expect(merchant_page.locator(".messages")).to_contain_text("Stoneware teapot is on sale.")
    expect(merchant_page.get_by_test_id("merchant-product")).to_contain_text("Stoneware teapot")

    shopper = new_page()
    log_in(shopper, customer.email)
    add_to_cart(shopper, "Stoneware teapot", 2)
    order = check_out(shopper)
    pay(shopper, GOOD_CARD)
    expect_thank_you(shopper, order)

    merchant_page.get_by_role("link", name="Sales and earnings").click()
    expect(merchant_page.get_by_test_id("sale-row")).to_contain_text("Stoneware teapot")
    expect(merchant_page.get_by_test_id("sale-net")).to_have_text("$36.00")
    expect(merchant_page.get_by_test_id("earned")).to_have_text("$36.00")
    expect(merchant_page.get_by_test_id("earning-entry")).to_contain_text("$36.00")

    earning = Earning.objects.get(order=order)
    assert (earning.gross, earning.fee, earning.net) == (
        Decimal("40.00"),
        Decimal("4.00"),
        Decimal("36.00"),
    )
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_the_merchant_pages_fit_a_phone_and_pass_basic_accessibility_checks(new_page):
    applicant = UserFactory()
    merchant = make_merchant(user=UserFactory(), display_name="Ann's Pottery")
    product = ProductFactory(merchant=merchant, name="Stoneware teapot", stock=5)
    make_order(lines=[(product.pk, 1)], status=Order.Status.PAID)
    staff = StaffFactory(is_superuser=True)
    mugs = create_parent_product(
        sku="MUG", name="Mug", option_names=["Size"], merchant=merchant, actor=staff
    )
    create_variant(parent=mugs, sku="MUG-S", options={"Size": "S"}, price=Decimal("9"), actor=staff)

    page = new_page(viewport=PHONE)
    log_in(page, applicant.email)
    page.goto("/merchant/apply/")
    assert page.evaluate(A11Y_CHECK) == []

    page = new_page(viewport=PHONE)
    log_in(page, merchant.user.email)
    for url in [
        "/merchant/",
        "/merchant/products/new/",
        f"/merchant/products/{product.pk}/",
        "/merchant/products/new-with-options/",
        f"/merchant/products/{mugs.pk}/",
        "/merchant/sales/",
    ]:
        page.goto(url)
        assert page.evaluate(A11Y_CHECK) == [], url
