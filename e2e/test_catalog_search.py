# ruff: noqa: S101
"""End to end in headless Chromium: searching the catalog by stem, typo and SKU, then
narrowing and sorting the results with the filter form (plain GET forms, no script)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from shop.tests.factories import ProductFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def card_names(page) -> list[str]:
    return page.get_by_test_id("product-card").locator("h2").all_inner_texts()


def search(page, text: str) -> None:
    page.get_by_role("searchbox", name="Search products").fill(text)
    page.get_by_role("button", name="Search").click()


def test_customer_finds_by_stem_typo_and_sku_then_filters_and_sorts(new_page):
    ProductFactory(name="Blue mug", sku="MUG-001", price=Decimal("12.00"), stock=5)
    ProductFactory(name="Enamel camp mug", sku="MUG-002", price=Decimal("30.00"), stock=0)
    ProductFactory(name="Giant mug", sku="MUG-100", price=Decimal("45.00"), stock=2)
    ProductFactory(name="Steel kettle", sku="KET-1", price=Decimal("40.00"), stock=9)
    page = new_page()
    page.goto("/")

    search(page, "mugs")
    expect(page.get_by_role("heading", name="Results for “mugs”")).to_be_visible()
    assert card_names(page) == ["Blue mug", "Enamel camp mug", "Giant mug"]

    search(page, "ketle")
    assert card_names(page) == ["Steel kettle"]

    search(page, "MUG-00")
    assert card_names(page)[:2] == ["Blue mug", "Enamel camp mug"]

    search(page, "mug")
    filters = page.get_by_role("form", name="Filter and sort")
    filters.get_by_label("Lowest price").fill("20")
    filters.get_by_label("In stock only").check()
    filters.get_by_label("Sort by").select_option(label="Price, high to low")
    filters.get_by_role("button", name="Apply").click()

    # An empty field is sent empty, as every browser does; it means "no bound".
    query = r"\?q=mug&min_price=20&max_price=&in_stock=true&ordering=-price$"
    expect(page).to_have_url(re.compile(query))
    assert card_names(page) == ["Giant mug"]
    expect(filters.get_by_label("In stock only")).to_be_checked()

    filters.get_by_label("In stock only").uncheck()
    filters.get_by_role("button", name="Apply").click()
    assert card_names(page) == ["Giant mug", "Enamel camp mug"]

    filters.get_by_role("link", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/\?q=mug$"))
    assert card_names(page) == ["Blue mug", "Enamel camp mug", "Giant mug"]
