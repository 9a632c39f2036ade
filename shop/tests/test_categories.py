"""The category tree: its pages (breadcrumbs, subtree filter) and its API."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.tests.helpers import api
from shop import selectors
from shop.models import Category
from shop.search import search_products
from shop.tests.admin_forms import product_form
from shop.tests.factories import ProductFactory, make_category

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    """Kitchen > Drinkware > Mugs, and Clothing, with a product at each level."""
    kitchen = make_category("Kitchen")
    drinkware = make_category("Drinkware", kitchen)
    mugs = make_category("Mugs", drinkware)
    clothing = make_category("Clothing")
    products = {
        "pan": ProductFactory(name="Cast iron pan"),
        "glass": ProductFactory(name="Water glass"),
        "mug": ProductFactory(name="Enamel mug"),
        "tee": ProductFactory(name="Cotton tee"),
        "none": ProductFactory(name="Gift card"),
    }
    products["pan"].categories.add(kitchen)
    products["glass"].categories.add(drinkware)
    products["mug"].categories.add(mugs, clothing)  # in two categories
    products["tee"].categories.add(clothing)
    # Adding a sibling that sorts earlier moves the others' paths: read them afresh.
    return {c.slug: c for c in Category.objects.all()}


def names(products) -> list[str]:
    return [p.name for p in products]


def breadcrumbs_of(html: str) -> str:
    start = html.index('class="breadcrumbs"')
    return html[start : html.index("</nav>", start)]


# --- selectors -------------------------------------------------------------------------------


def test_a_category_holds_its_products_and_those_of_every_category_below(tree):
    assert names(selectors.products_for_sale(category=tree["kitchen"])) == [
        "Cast iron pan",
        "Enamel mug",
        "Water glass",
    ]
    assert names(selectors.products_for_sale(category=tree["drinkware"])) == [
        "Enamel mug",
        "Water glass",
    ]
    assert names(selectors.products_for_sale(category=tree["mugs"])) == ["Enamel mug"]
    # A product in two categories is listed once in each, and once in all.
    assert names(selectors.products_for_sale(category=tree["clothing"])) == [
        "Cotton tee",
        "Enamel mug",
    ]
    assert len(selectors.products_for_sale()) == 5


def test_the_subtree_filter_combines_with_search(tree):
    found = search_products(selectors.products_for_sale(category=tree["kitchen"]), query="MUG")
    assert names(found) == ["Enamel mug"]


def test_a_sibling_whose_path_extends_another_is_not_its_descendant():
    # Materialized paths: the subtree of "0001" must not pick up "00010001"'s cousins
    # by accident; only real descendants share the prefix.
    first = make_category("A")
    for i in range(12):
        make_category(f"B{i}")
    second = make_category("C")
    item = ProductFactory(name="In C")
    item.categories.add(second)
    assert names(selectors.products_for_sale(category=first)) == []


# --- pages -------------------------------------------------------------------------------------


def test_the_catalog_links_the_top_level_categories(client, tree):
    response = client.get(reverse("shop:catalog"))
    html = response.content.decode()
    assert names(response.context["subcategories"]) == ["Clothing", "Kitchen"]
    assert f'href="{tree["kitchen"].get_absolute_url()}"' in html
    assert "Drinkware" not in html  # only one level at a time


def test_a_category_page_shows_its_subtree_subcategories_and_breadcrumbs(client, tree):
    response = client.get(reverse("shop:category", kwargs={"slug": "drinkware"}))
    assert response.status_code == 200
    assert names(response.context["page"]) == ["Enamel mug", "Water glass"]
    assert names(response.context["subcategories"]) == ["Mugs"]
    html = response.content.decode()
    crumbs = breadcrumbs_of(html)
    assert '<a href="/">Catalog</a>' in crumbs
    assert '<a href="/categories/kitchen/">Kitchen</a>' in crumbs
    assert '<span aria-current="page">Drinkware</span>' in crumbs
    assert "<h1>Drinkware</h1>" in html


def test_the_catalog_filters_by_category_in_the_query_string(client, tree):
    response = client.get(reverse("shop:catalog"), {"category": "mugs"})
    assert names(response.context["page"]) == ["Enamel mug"]


def test_an_unknown_category_is_a_404(client, tree):
    assert client.get(reverse("shop:category", kwargs={"slug": "nope"})).status_code == 404
    assert client.get(reverse("shop:catalog"), {"category": "nope"}).status_code == 404


def test_a_product_page_has_the_trail_of_its_first_category(client, tree):
    mug = selectors.products_for_sale().get(name="Enamel mug")
    html = client.get(mug.get_absolute_url()).content.decode()
    crumbs = breadcrumbs_of(html)
    # Clothing sorts before Kitchen in the tree, so the mug's trail goes through it.
    assert '<a href="/categories/clothing/">Clothing</a>' in crumbs
    assert "Kitchen" not in crumbs
    assert '<span aria-current="page">Enamel mug</span>' in crumbs


def test_category_pages_take_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    for i in range(15):
        ProductFactory(name=f"Mug {i}").categories.add(tree["mugs"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("shop:category", kwargs={"slug": "kitchen"}))
    assert len(response.context["page"]) == 12


# --- API -----------------------------------------------------------------------------------------


def test_categories_api_lists_the_tree_depth_first_with_parents(tree):
    response = APIClient().get(api("categories"))
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": tree["clothing"].pk,
            "slug": "clothing",
            "name": "Clothing",
            "description": "",
            "parent": None,
            "depth": 1,
        },
        {
            "id": tree["kitchen"].pk,
            "slug": "kitchen",
            "name": "Kitchen",
            "description": "",
            "parent": None,
            "depth": 1,
        },
        {
            "id": tree["drinkware"].pk,
            "slug": "drinkware",
            "name": "Drinkware",
            "description": "",
            "parent": "kitchen",
            "depth": 2,
        },
        {
            "id": tree["mugs"].pk,
            "slug": "mugs",
            "name": "Mugs",
            "description": "",
            "parent": "drinkware",
            "depth": 3,
        },
    ]


def test_categories_api_reads_the_tree_in_one_query(tree, django_assert_max_num_queries):
    for i in range(10):
        make_category(f"Extra {i}", tree["mugs"])
    with django_assert_max_num_queries(1):
        response = APIClient().get(api("categories"))
    assert len(response.json()) == 14


def test_products_api_filters_by_category_and_its_descendants(tree):
    body = APIClient().get(api("products?category=drinkware")).json()
    assert body["count"] == 2
    assert [p["name"] for p in body["results"]] == ["Enamel mug", "Water glass"]


def test_products_api_answers_404_for_an_unknown_category(tree):
    response = APIClient().get(api("products?category=nope"))
    assert response.status_code == 404
    assert response.json() == {"detail": "No category with this slug.", "code": "not_found"}


# --- admin -------------------------------------------------------------------------------------


def test_staff_add_a_category_under_another_in_the_admin(staff_client, tree):
    response = staff_client.post(
        reverse("admin:shop_category_add"),
        {
            "name": "Teapots",
            "slug": "teapots",
            "description": "",
            "treebeard_position": "sorted-child",
            "treebeard_ref_node": str(tree["kitchen"].pk),
        },
    )
    assert response.status_code == 302
    teapots = Category.objects.get(slug="teapots")
    assert list(selectors.category_ancestors(teapots)) == [tree["kitchen"]]
    assert [c.slug for c in selectors.child_categories(tree["kitchen"])] == [
        "drinkware",
        "teapots",
    ]


def test_staff_put_a_product_in_categories_in_the_product_admin(staff_client, tree):
    product = ProductFactory(sku="PAN-2", name="Small pan")
    response = staff_client.post(
        reverse("admin:shop_product_change", args=[product.pk]),
        product_form(product, categories=[str(tree["kitchen"].pk), str(tree["clothing"].pk)]),
    )
    assert response.status_code == 302
    assert {c.slug for c in product.categories.all()} == {"kitchen", "clothing"}
