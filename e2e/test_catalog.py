# ruff: noqa: S101
# (pytest's asserts, as ruff allows in the apps' tests/)
"""End to end in headless Chromium: browsing categories to a product with variants,
picking one, and buying it through the existing cart and checkout."""

import re
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from playwright.sync_api import expect

from e2e.conftest import VIEWPORT, save_doc_screenshot
from e2e.test_storefront import GOOD_CARD, check_out, expect_thank_you, log_in, pay
from orders.models import Order
from shop.images import add_product_image
from shop.management.commands.seed_demo import demo_image
from shop.models import Inventory, Product
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory, make_category, make_tee

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


@pytest.fixture
def catalog():
    """Clothing > Tops holds a tee in three variants (M / Red: 22.00, 2 left); Kitchen a
    mug. Both have a picture."""
    clothing = make_category("Clothing")
    tops = make_category("Tops", clothing)
    kitchen = make_category("Kitchen")
    tee = make_tee(actor=StaffFactory())
    tee.categories.add(tops)
    mug = ProductFactory(name="Enamel camp mug", price=Decimal("12.50"), stock=40)
    mug.categories.add(kitchen)
    for product, colour in [(tee, "#6a994e"), (mug, "#2a6f97")]:
        add_product_image(
            product=product,
            content=demo_image(product.name, view="front", background=colour, accent=colour),
            filename=f"{product.slug}.jpg",
            alt=f"{product.name}, front view",
        )
    return {"tee": tee, "mug": mug}


def serve_media(page):
    """The live server runs without DEBUG, so nothing serves uploads (production has its
    bucket): the browser gets them from the test's media storage instead."""

    def fulfil(route):
        name = route.request.url.split("/media/", 1)[1]
        with default_storage.open(name) as file:
            route.fulfill(status=200, content_type="image/jpeg", body=file.read())

    page.route(re.compile(r".*/media/.*"), fulfil)


def test_browse_a_category_pick_a_variant_and_buy_it(new_page, catalog, stripe_sim_live):
    customer = UserFactory()
    page = new_page()
    serve_media(page)
    log_in(page, customer.email)

    page.goto("/")
    categories = page.get_by_role("navigation", name="Categories")
    expect(categories.get_by_role("link")).to_have_text(["Clothing", "Kitchen"])
    save_doc_screenshot(page, "catalog")
    categories.get_by_role("link", name="Clothing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clothing")
    expect(page.get_by_test_id("product-card")).to_contain_text("From $22.00")  # its subtree
    save_doc_screenshot(page, "category")
    page.get_by_role("navigation", name="Subcategories").get_by_role("link", name="Tops").click()

    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("listitem")).to_have_text(["Catalog", "Clothing", "Tops"])
    cards = page.get_by_test_id("product-card")
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Cotton tee")
    expect(cards).to_contain_text("From $22.00")  # the cheapest variant's price
    card_image = cards.get_by_role("img", name="Cotton tee, front view")
    expect(card_image).to_have_attribute("loading", "lazy")
    expect(card_image).to_have_attribute("srcset", re.compile(r" 320w, .* 640w, .* 960w$"))
    # Loaded from a thumbnail of its srcset (the browser picks the width for the card);
    # lazy loading finishes after the page does, so wait for the image itself.
    card_image.scroll_into_view_if_needed()
    card_image.evaluate(
        "img => img.complete ? null : new Promise((ok, fail) => {"
        " img.addEventListener('load', ok); img.addEventListener('error', fail); })"
    )
    assert card_image.evaluate("img => img.naturalWidth") > 0
    assert re.search(r"/media/.+\.jpg$", card_image.evaluate("img => img.currentSrc"))

    page.get_by_role("link", name="Cotton tee").click()
    expect(crumbs.get_by_role("listitem")).to_have_text(
        ["Catalog", "Clothing", "Tops", "Cotton tee"]
    )
    # The first variant in stock is chosen; its price and stock head the page.
    expect(page.get_by_test_id("price")).to_have_text("$24.00")
    expect(page.get_by_test_id("stock")).to_have_text("Only 5 left")
    picker = page.get_by_role("group", name="Choose Size / Colour")
    expect(picker.get_by_role("radio")).to_have_count(3)
    expect(picker.get_by_role("radio", name=re.compile(r"^L \/ Blue"))).to_be_disabled()
    picker.get_by_role("radio", name=re.compile(r"^M \/ Red")).check()
    expect(page.get_by_test_id("price")).to_have_text("$22.00")
    expect(page.get_by_test_id("stock")).to_have_text("Only 2 left")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1000})  # the whole form
    page.evaluate("window.scrollTo(0, 0)")
    save_doc_screenshot(page, "product-variants")
    page.set_viewport_size(VIEWPORT)

    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".messages")).to_contain_text("Added 2 of Cotton tee (M / Red)")
    line = page.get_by_test_id("cart-line")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("Cotton tee (M / Red)")

    order = check_out(page)
    pay(page, GOOD_CARD)
    expect_thank_you(page, order)

    (item,) = Order.objects.get(pk=order.pk).items.all()
    assert (item.sku, item.name, item.quantity, item.unit_price) == (
        "TEE-M-RED",
        "Cotton tee (M / Red)",
        2,
        Decimal("22.00"),
    )
    red = Inventory.objects.get(product__sku="TEE-M-RED")
    assert (red.available, red.reserved) == (0, 0)
    untouched = Inventory.objects.get(product__sku="TEE-M-BLU")
    assert (untouched.available, untouched.reserved) == (5, 0)


def test_a_variant_is_picked_without_javascript(browser, live_server, catalog):
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(catalog["tee"].get_absolute_url())
        picker = page.get_by_role("group", name="Choose Size / Colour")
        # Each option says its own price and stock, so nothing needs a script.
        red = picker.get_by_role("radio", name=re.compile(r"^M \/ Red"))
        option = picker.get_by_test_id("variant").filter(has_text="M / Red")
        expect(option).to_contain_text("$22.00")
        expect(option).to_contain_text("Only 2 left")
        red.check()
        page.get_by_role("button", name="Add to cart").click()
        expect(page.locator(".messages")).to_contain_text("Added 1 of Cotton tee (M / Red)")
        expect(page.get_by_test_id("cart-line")).to_contain_text("Cotton tee (M / Red)")
        # A variant's own link opens its parent's page with it chosen.
        page.get_by_role("link", name="Cotton tee (M / Red)").click()
        expect(page.get_by_test_id("price")).to_have_text("$22.00")
        expect(red).to_be_checked()
    finally:
        context.close()
    assert Product.objects.get(sku="TEE-M-RED").inventory.available == 2
