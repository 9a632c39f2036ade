# ruff: noqa: S101, S105
# (pytest's asserts and the factories' test password, as ruff allows in the apps' tests/)
"""End to end in headless Chromium: the customer's journeys through the storefront."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from e2e.conftest import save_doc_screenshot
from orders.checkout import Delivery, place_order
from orders.models import Order
from orders.services import mark_paid
from pricing.models import Coupon
from pricing.tests.factories import (
    CouponFactory,
    ShippingMethodFactory,
    TaxRateFactory,
)
from shop import cart
from shop.models import Inventory
from shop.tests.factories import AddressFactory, ProductFactory, StaffFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

PASSWORD = "correct-horse-battery"
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
PAID_WAIT = 20_000  # ms: the webhook is delivered by the simulator's background thread


@pytest.fixture
def products():
    # Shipped goods; the shop ships them to Germany for free (no tax rate: prices as they
    # are), so the totals below are the subtotals.
    ShippingMethodFactory(
        code="free", name="Free delivery", price=Decimal("0.00"), countries=["DE"]
    )
    return {
        "mug": ProductFactory(
            name="Enamel camp mug",
            price=Decimal("12.50"),
            stock=40,
            description="A sturdy enamel mug for coffee outdoors.",
            requires_shipping=True,
        ),
        "pen": ProductFactory(
            name="Brass pen", price=Decimal("39.99"), stock=3, requires_shipping=True
        ),
        "tee": ProductFactory(
            name="Organic cotton tee", price=Decimal("24.00"), stock=25, requires_shipping=True
        ),
        "cap": ProductFactory(name="Wool cap", price=Decimal("29.00"), stock=0),
    }


def delivered(customer) -> Delivery:
    """An address in the customer's book and the free method, for orders placed directly."""
    return Delivery(shipping_address_id=AddressFactory(user=customer).pk, shipping_method="free")


def cart_count(page):
    return page.get_by_test_id("cart-count")


def log_in(page, email, password=PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".messages")).to_contain_text(f"Signed in as {email}.")


def add_to_cart(page, name, quantity=1):
    page.goto("/")
    page.get_by_role("link", name=name, exact=True).click()
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".messages")).to_contain_text(f"Added {quantity} of {name}")


def enter_address(page, country="DE"):
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Address line 1").fill("Unter den Linden 1")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Postal code").fill("10117")
    page.get_by_label("Country").select_option(country)
    page.get_by_role("button", name="Use this address").click()


def check_out(page, method="Free delivery", coupon=None, on_step=None):
    """The one way through the checkout's steps for every journey: from the cart's
    "Check out", a new address and the shipping method when something in the cart ships
    (goods that do not ship go straight to the review), then the review (with the coupon,
    if any) and "Place order"; returns the order on its payment page. `on_step(name)`,
    if given, runs on each step's page as it opens (the accessibility checks)."""
    step = on_step or (lambda name: None)
    page.get_by_role("link", name="Check out").click()
    expect(page).to_have_url(re.compile(r"/checkout/(address|review)/$"))
    expect(page.get_by_role("heading", name="Checkout", exact=True)).to_be_visible()
    if page.url.endswith("/checkout/address/"):
        step("address")
        enter_address(page)
        expect(page).to_have_url(re.compile(r"/checkout/shipping/$"))
        step("shipping")
        page.get_by_label(re.compile(rf"^{method}:")).check()
        page.get_by_role("button", name="Continue to review").click()
    expect(page).to_have_url(re.compile(r"/checkout/review/$"))
    expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
    step("review")
    if coupon:
        page.get_by_label("Coupon code").fill(coupon)
        page.get_by_role("button", name="Apply").click()
        expect(page.locator(".messages")).to_contain_text(f"Coupon {coupon.upper()} applied.")
    return place_order_here(page)


def place_order_here(page):
    """On the review step: "Place order"; returns the order on its payment page."""
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}/pay/$"))
    return Order.objects.get(pk=page.url.split("/")[-3])


def expect_thank_you(page, order):
    """After paying by card: the return (or the order page's polling, when the webhook
    is what tells) lands on the order's thank-you page, paid."""
    expect(page).to_have_url(re.compile(rf"/orders/{order.pk}/thank-you/$"), timeout=PAID_WAIT)
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("confirmation")).to_contain_text(order.short_id)


def pay(page, card):
    page.get_by_label("Card number").fill(card)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


def test_new_customer_registers_buys_two_products_and_sees_the_order_paid(
    new_page, products, stripe_sim_live
):
    page = new_page()
    page.goto("/")
    expect(page.get_by_test_id("product-card")).to_have_count(4)
    expect(page.get_by_text("Only 3 left")).to_be_visible()
    expect(page.get_by_text("Sold out")).to_be_visible()

    page.get_by_role("link", name="Register").click()
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-passphrase")
    page.get_by_label("Password confirmation").fill("a-long-passphrase")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".messages")).to_contain_text("Welcome! Your account ada@example.com")

    add_to_cart(page, "Enamel camp mug", 2)
    add_to_cart(page, "Brass pen", 1)
    expect(cart_count(page)).to_have_text("3")
    expect(page.get_by_test_id("subtotal")).to_have_text("$64.99")

    order = check_out(page)
    expect(page.get_by_text("Your items are reserved for")).to_be_visible()
    expect(cart_count(page)).to_have_text("3")  # the cart keeps the lines until paid
    pay(page, GOOD_CARD)

    # Paid at once (the return asks Stripe), or once the order page's polling sees it.
    expect_thank_you(page, order)
    expect(cart_count(page)).to_have_text("0")
    page.get_by_role("link", name="View your order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("timeline")).to_contain_text("Payment received")
    save_doc_screenshot(page, "order-paid")

    order = Order.objects.get(pk=order.pk)
    assert (order.status, order.total, order.user.email) == (
        Order.Status.PAID,
        Decimal("64.99"),
        "ada@example.com",
    )
    pen = Inventory.objects.get(product=products["pen"])
    assert (pen.available, pen.reserved) == (2, 0)


def test_a_declined_card_shows_the_reason_and_a_retry_succeeds(new_page, products, stripe_sim_live):
    customer = UserFactory()
    page = new_page()
    log_in(page, customer.email)
    add_to_cart(page, "Organic cotton tee", 1)
    order = check_out(page)

    pay(page, DECLINED_CARD)
    expect(page.get_by_test_id("payment-result")).to_have_text("Your card was declined.")
    expect(page).to_have_url(re.compile(r"/pay/$"))
    expect(cart_count(page)).to_have_text("1")  # still there to try again

    pay(page, GOOD_CARD)
    expect_thank_you(page, order)
    page.get_by_role("link", name="View your order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("timeline")).to_contain_text(
        "Payment declined: Your card was declined."
    )
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_an_anonymous_cart_survives_login_and_merges(new_page, products, live_server):
    customer = UserFactory()
    cart.set_quantity(product_id=products["mug"].pk, quantity=1, user=customer)
    cart.set_quantity(product_id=products["pen"].pk, quantity=2, user=customer)
    page = new_page()
    add_to_cart(page, "Enamel camp mug", 3)
    add_to_cart(page, "Organic cotton tee", 1)
    expect(cart_count(page)).to_have_text("4")

    log_in(page, customer.email)

    expect(page.locator(".messages")).to_contain_text(
        "The items you added before signing in are in your cart."
    )
    expect(cart_count(page)).to_have_text("6")
    page.get_by_test_id("cart-link").click()
    lines = page.get_by_test_id("cart-line")
    expect(lines).to_have_count(3)
    for slug, quantity in [
        (products["mug"].slug, "3"),  # the larger of 1 and 3
        (products["pen"].slug, "2"),
        (products["tee"].slug, "1"),
    ]:
        expect(page.locator(f'[data-product="{slug}"] [data-testid="quantity"]')).to_have_value(
            quantity
        )


def test_staff_fulfil_an_order_in_the_admin_and_the_customer_sees_it(
    new_page, products, stripe_sim_live
):
    customer = UserFactory()
    staff = StaffFactory(is_superuser=True)
    order = place_order(
        user=customer, lines=[(products["mug"].pk, 1)], delivery=delivered(customer)
    )
    mark_paid(order=order)

    admin = new_page()
    admin.goto("/admin/")
    admin.get_by_label("Email address").fill(staff.email)
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    admin.locator("#orders-order").get_by_role("link", name="Orders").click()
    admin.locator("#searchbar").fill(order.short_id)
    admin.locator("#searchbar").press("Enter")
    admin.get_by_role("link", name=order.short_id).click()
    admin.get_by_label("Carrier").fill("DHL")
    admin.get_by_label("Tracking number").fill("JD014600003828")
    admin.get_by_role("button", name="Mark fulfilled").click()
    expect(admin.locator(".messagelist")).to_contain_text(
        f"Order {order.short_id}: marked fulfilled."
    )

    page = new_page()
    log_in(page, customer.email)
    page.get_by_role("link", name="My orders").click()
    expect(page.get_by_test_id("order-row")).to_contain_text("Fulfilled")
    page.get_by_role("link", name=order.short_id).click()
    expect(page.get_by_test_id("order-status")).to_have_text("Fulfilled")
    expect(page.get_by_test_id("timeline")).to_contain_text("Order fulfilled and on its way")
    expect(page.get_by_test_id("tracking-number")).to_have_text("JD014600003828")
    expect(page.get_by_test_id("shipment")).to_contain_text("DHL")
    assert Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED


PHONE = {"width": 375, "height": 740}
A11Y_CHECK = """() => {
  const problems = [];
  if (document.documentElement.scrollWidth > window.innerWidth) {
    problems.push(`page is ${document.documentElement.scrollWidth}px wide`);
  }
  for (const input of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (!input.labels.length && !input.getAttribute("aria-label")) {
      problems.push(`no label: ${input.name}`);
    }
  }
  let level = 0;
  for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const next = Number(h.tagName[1]);
    if (next > level + 1) problems.push(`heading ${h.tagName} after h${level}`);
    level = next;
  }
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  return problems;
}"""


def test_pages_fit_a_phone_and_pass_basic_accessibility_checks(new_page, products):
    customer = UserFactory()
    cart.set_quantity(product_id=products["mug"].pk, quantity=50, user=customer)  # > stock
    order = place_order(
        user=customer, lines=[(products["tee"].pk, 1)], delivery=delivered(customer)
    )
    page = new_page(viewport=PHONE)
    pages = ["/", products["mug"].get_absolute_url(), "/accounts/register/", "/accounts/login/"]
    for url in pages:
        page.goto(url)
        assert page.evaluate(A11Y_CHECK) == [], url
    log_in(page, customer.email)
    checkout_steps = ["/checkout/", "/checkout/shipping/", "/checkout/review/"]
    for url in ["/cart/", *checkout_steps, "/orders/", f"/orders/{order.pk}/", "/nowhere/"]:
        page.goto(url)
        assert page.evaluate(A11Y_CHECK) == [], url
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()

    # Keyboard users see where they are: the focused link gets an outline.
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert page.evaluate("() => document.activeElement.textContent") == "Shop"
    assert outline == "solid"


def test_paying_while_the_webhook_is_late_shows_the_order_paid_with_nothing_to_cancel(
    new_page, products, stripe_sim_live
):
    customer = UserFactory()
    page = new_page()
    log_in(page, customer.email)
    add_to_cart(page, "Brass pen", 1)
    order = check_out(page)
    stripe_sim_live.hold_events()  # the payment's webhook is late

    pay(page, GOOD_CARD)

    # Coming back from the payment, the shop asks Stripe itself: the order is paid.
    expect_thank_you(page, order)
    page.get_by_role("link", name="View your order").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order.pk}/$"))
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    expect(page.get_by_role("link", name="Pay now")).to_have_count(0)
    stripe_sim_live.release_events()
    stripe_sim_live.wait_for_deliveries(timeout=10)
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_a_customer_checks_out_with_an_address_express_shipping_a_coupon_and_tax(
    new_page, products, stripe_sim_live
):
    ShippingMethodFactory(
        code="express", name="Express", price=Decimal("9.90"), countries=["DE", "AT"]
    )
    TaxRateFactory(country="DE", rate=Decimal("19.00"))
    CouponFactory(code="CAMP15", kind=Coupon.Kind.PERCENT, value=Decimal("15"), max_uses=5)
    customer = UserFactory()
    page = new_page()
    log_in(page, customer.email)
    add_to_cart(page, "Enamel camp mug", 3)

    page.get_by_role("link", name="Check out").click()
    enter_address(page)
    # Only the methods for Germany, with their prices.
    expect(page.get_by_test_id("shipping-method")).to_have_count(2)
    expect(page.get_by_label("Express: $9.90")).to_be_visible()
    page.get_by_label("Express: $9.90").check()
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_label("Coupon code").fill("camp15")
    page.get_by_role("button", name="Apply").click()
    # 37.50 - 5.63 (15%, 5.625 half up) + 9.90 = 41.77; tax 19%: 7.9363 -> 7.94
    expect(page.get_by_test_id("breakdown-subtotal")).to_have_text("$37.50")
    expect(page.get_by_test_id("breakdown-discount")).to_have_text(
        re.compile(r"^\W\$5\.63$")
    )  # a minus sign
    expect(page.get_by_test_id("breakdown-shipping")).to_have_text("$9.90")
    expect(page.get_by_test_id("breakdown-tax")).to_have_text("$7.94")
    expect(page.get_by_test_id("total")).to_have_text("$49.71")
    expect(page.get_by_test_id("address")).to_contain_text("Unter den Linden 1")
    save_doc_screenshot(page, "checkout-review")
    order = place_order_here(page)
    expect(page.get_by_role("button", name=re.compile(r"^Pay "))).to_contain_text("49.71")
    pay(page, GOOD_CARD)

    expect_thank_you(page, order)
    expect(page.get_by_test_id("total")).to_have_text("$49.71")
    page.get_by_role("link", name="View your order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("total")).to_have_text("$49.71")
    expect(page.get_by_test_id("address")).to_contain_text("Berlin")
    order = Order.objects.get(pk=order.pk)
    assert (order.status, order.total, order.coupon_code, order.shipping_method_code) == (
        Order.Status.PAID,
        Decimal("49.71"),
        "CAMP15",
        "express",
    )
    assert order.payment.amount == Decimal("49.71")
    assert Coupon.objects.get().uses == 1


def test_cancelling_an_order_asks_first(new_page, products):
    customer = UserFactory()
    address = AddressFactory(user=customer, country="DE")
    order = place_order(
        user=customer,
        lines=[(products["pen"].pk, 1)],
        delivery=Delivery(shipping_address_id=address.pk, shipping_method="free"),
    )
    page = new_page()
    log_in(page, customer.email)
    page.goto(f"/orders/{order.pk}/")

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Awaiting payment")
    assert asked == ["Cancel this order? Its items go back on sale."]
    assert Order.objects.get(pk=order.pk).status == Order.Status.CREATED

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Cancelled")
