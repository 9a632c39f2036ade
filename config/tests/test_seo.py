"""What search engines and link previews read (config.seo, config.context_processors,
the head of templates/base.html): meta tags, canonical links, sitemap.xml, robots.txt,
the favicon, and the shop's name and contact address from settings."""

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from pages.defaults import add_default_pages
from pages.models import Page
from shop.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SHOP_BASE_URL = "https://shop.example.com"
    settings.SHOP_NAME = "Fjord Goods"
    settings.SHOP_CONTACT_EMAIL = "help@fjord.example"


def head_tags(html: str) -> dict[str, str]:
    """{name or property or rel: content or href} of the page's <meta> and <link> tags."""
    tags = {}
    for tag in re.findall(r"<(?:meta|link) [^>]*>", html):
        attrs = dict(re.findall(r'(\w[\w:-]*)="([^"]*)"', tag))
        key = attrs.get("name") or attrs.get("property") or attrs.get("rel")
        if key and key not in tags:
            tags[key] = attrs.get("content") or attrs.get("href")
    return tags


def locs(xml: bytes, path: str) -> list[str]:
    # The shop's own sitemap, not untrusted input.
    return [loc.text for loc in ET.fromstring(xml).findall(path, SITEMAP_NS)]  # noqa: S314


def test_every_storefront_page_has_description_canonical_and_open_graph_tags(client):
    response = client.get("/cart/?utm_source=mail")  # Host: testserver

    tags = head_tags(response.content.decode())
    # On SHOP_BASE_URL, not the Host the request came through; no tracking parameters.
    assert tags["canonical"] == "https://shop.example.com/cart/"
    assert tags["og:url"] == "https://shop.example.com/cart/"
    assert tags["description"].startswith("Fjord Goods: ")
    assert tags["og:site_name"] == "Fjord Goods"
    assert tags["og:type"] == "website"
    assert tags["og:image"] == "https://shop.example.com/static/img/og-default.png"
    assert re.search(r"<title>Your cart · Fjord Goods</title>", response.content.decode())


def test_a_later_catalog_page_is_its_own_canonical_page(client):
    ProductFactory.create_batch(30)

    tags = head_tags(client.get("/?page=2&q=").content.decode())

    assert tags["canonical"] == "https://shop.example.com/?page=2"


def test_the_product_page_describes_the_product(client):
    ProductFactory(
        name="Enamel camp mug", slug="enamel-camp-mug", price=Decimal("12.50"),
        description="A sturdy enamel mug for coffee outdoors.",
    )  # fmt: skip

    tags = head_tags(client.get("/products/enamel-camp-mug/").content.decode())

    assert tags["description"] == "A sturdy enamel mug for coffee outdoors."
    assert tags["og:title"] == "Enamel camp mug"
    assert tags["og:type"] == "product"
    assert tags["canonical"] == "https://shop.example.com/products/enamel-camp-mug/"


def test_the_name_and_contact_address_come_from_settings(client):
    html = client.get("/").content.decode()

    assert '<a class="brand" href="/">Fjord Goods</a>' in html
    assert '<a href="mailto:help@fjord.example">help@fjord.example</a>' in html


def test_the_sitemap_lists_the_catalog_every_product_for_sale_and_the_footer_pages(client):
    add_default_pages(Page)
    ProductFactory(slug="brass-pen")
    ProductFactory(slug="wool-cap", stock=0)  # sold out, still a page
    ProductFactory(slug="hidden-lamp", is_active=False)

    index = client.get("/sitemap.xml")
    sections = locs(index.content, "sm:sitemap/sm:loc")
    urls = []
    for section in sections:
        assert section.startswith("https://shop.example.com/sitemap-")
        page = client.get(section.removeprefix("https://shop.example.com"))
        assert page.status_code == 200
        urls += locs(page.content, "sm:url/sm:loc")

    assert index.status_code == 200
    assert index["Content-Type"] == "application/xml"
    assert sorted(urls) == [
        "https://shop.example.com/",
        "https://shop.example.com/pages/contact/",
        "https://shop.example.com/pages/privacy/",
        "https://shop.example.com/pages/shipping-returns/",
        "https://shop.example.com/products/brass-pen/",
        "https://shop.example.com/products/wool-cap/",
    ]


def test_the_product_sitemap_costs_one_query_whatever_the_number_of_products(
    client, django_assert_max_num_queries
):
    ProductFactory.create_batch(5)
    client.get("/sitemap-products.xml")  # the session and anything else set up once
    ProductFactory.create_batch(20)

    with django_assert_max_num_queries(2):
        response = client.get("/sitemap-products.xml")

    assert response.content.decode().count("<url>") == 25


def test_robots_txt_keeps_crawlers_out_of_private_pages_and_points_at_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        "User-agent: *\n"
        "Disallow: /admin/\n"
        "Disallow: /api/\n"
        "Disallow: /cart/\n"
        "Disallow: /checkout/\n"
        "Disallow: /orders/\n"
        "Disallow: /accounts/\n"
        "\n"
        "Sitemap: https://shop.example.com/sitemap.xml\n"
    )


def test_favicon_ico_is_an_icon_not_a_404(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # ICO magic
    assert "max-age=86400" in response["Cache-Control"]


def test_pages_link_the_icons(client):
    html = client.get("/").content.decode()

    assert '<link rel="icon" href="/static/favicon.ico" sizes="any">' in html
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
