"""shop.filters: price range, in stock and sort order, with and without a search, in the
API (`GET products`: documented, strict, 400 on what it refuses) and on the catalog page
(a plain GET form whose values the pagination keeps)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.tests.helpers import api
from shop.models import Product
from shop.tests.factories import ProductFactory, make_category

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    """Five products: prices 5..50, one sold out, created a day apart (oldest first)."""
    rows = [
        ("Blue mug", "12.00", 4),
        ("Canvas tote", "5.00", 0),
        ("Enamel camp mug", "30.00", 9),
        ("Steel kettle", "50.00", 2),
        ("Zinc mug", "12.00", 1),
    ]
    start = timezone.now() - timedelta(days=10)
    for day, (name, price, stock) in enumerate(rows):
        product = ProductFactory(name=name, price=Decimal(price), stock=stock)
        Product.objects.filter(pk=product.pk).update(created_at=start + timedelta(days=day))


def api_names(**params) -> list[str]:
    response = APIClient().get(api("products"), params)
    assert response.status_code == 200, response.json()
    return [p["name"] for p in response.json()["results"]]


def page_names(client, **params) -> list[str]:
    response = client.get(reverse("shop:catalog"), params)
    assert response.status_code == 200
    return [p.name for p in response.context["page"]]


# --- the API ---------------------------------------------------------------------------------


def test_a_price_range_includes_both_ends(catalog):
    assert api_names(min_price="12", max_price="30.00") == [
        "Blue mug",
        "Enamel camp mug",
        "Zinc mug",
    ]
    assert api_names(min_price="30.01") == ["Steel kettle"]
    assert api_names(max_price="4.99") == []
    assert api_names(min_price="40", max_price="20") == []  # an empty range, not an error


def test_in_stock_leaves_out_what_is_sold_out(catalog):
    assert "Canvas tote" not in api_names(in_stock="true")
    assert len(api_names(in_stock="true")) == 4
    assert len(api_names(in_stock="false")) == 5


@pytest.mark.parametrize(
    ("ordering", "names"),
    [
        ("price", ["Canvas tote", "Blue mug", "Zinc mug", "Enamel camp mug", "Steel kettle"]),
        ("-price", ["Steel kettle", "Enamel camp mug", "Zinc mug", "Blue mug", "Canvas tote"]),
        ("name", ["Blue mug", "Canvas tote", "Enamel camp mug", "Steel kettle", "Zinc mug"]),
        ("newest", ["Zinc mug", "Steel kettle", "Enamel camp mug", "Canvas tote", "Blue mug"]),
        ("", ["Blue mug", "Canvas tote", "Enamel camp mug", "Steel kettle", "Zinc mug"]),
    ],
)
def test_each_sort_order(catalog, ordering, names):
    assert api_names(ordering=ordering) == names


def test_a_sort_order_overrides_the_best_match_and_filters_combine_with_search(catalog):
    assert api_names(search="mugs") == ["Blue mug", "Enamel camp mug", "Zinc mug"]
    assert api_names(search="mugs", ordering="-price") == [
        "Enamel camp mug",
        "Zinc mug",
        "Blue mug",
    ]
    assert api_names(search="mug", in_stock="true", max_price="12", ordering="newest") == [
        "Zinc mug",
        "Blue mug",
    ]
    assert api_names(search="mugg", min_price="13") == ["Enamel camp mug"]


def test_empty_values_mean_no_filter(catalog):
    assert len(api_names(search="", min_price="", max_price="", ordering="")) == 5


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("min_price", "abc", "Enter an amount such as 12 or 12.50."),
        ("min_price", "1e3", "Enter an amount such as 12 or 12.50."),
        ("min_price", "-1", "Enter an amount such as 12 or 12.50."),
        ("max_price", " 5", "Enter an amount such as 12 or 12.50."),
        ("max_price", "12.345", "Enter an amount such as 12 or 12.50."),
        ("max_price", "12345678901", "Enter an amount such as 12 or 12.50."),
        ("max_price", "\u0663", "Enter an amount such as 12 or 12.50."),  # an Arabic-Indic 3
        ("max_price", "NaN", "Enter an amount such as 12 or 12.50."),
        ("in_stock", "yes", "Enter true or false."),
        ("in_stock", "TRUE", "Enter true or false."),
        ("in_stock", "", "Enter true or false."),
        (
            "ordering",
            "-name",
            "Select a valid choice. -name is not one of the available choices.",
        ),
        (
            "search",
            "m" * 101,
            "Ensure this value has at most 100 characters (it has 101).",
        ),
    ],
)
def test_a_value_it_cannot_use_is_a_json_400(catalog, param, value, message):
    response = APIClient().get(api("products"), {param: value})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {param: [message]},
    }


@pytest.mark.parametrize("query", ["min_price=%00", "ordering=price%1B", "in_stock=tr%07ue"])
def test_control_characters_in_a_filter_are_refused_like_everywhere(catalog, query):
    response = APIClient().get(f"/api/v1/products?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"


def test_the_parameters_are_in_the_openapi_schema():
    schema = APIClient().get("/api/schema/?format=json").json()
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/products"]["get"]["parameters"]
    }

    assert set(parameters) == {
        "search",
        "category",
        "min_price",
        "max_price",
        "in_stock",
        "ordering",
        "page",
        "page_size",
    }
    assert parameters["min_price"]["pattern"] == "^([0-9]{1,10}(\\.[0-9]{1,2})?)?$"
    assert parameters["in_stock"] == {"type": "boolean"}
    assert parameters["ordering"]["enum"] == ["", "-price", "name", "newest", "price"]
    assert parameters["search"]["maxLength"] == 100
    post = schema["paths"]["/api/v1/products"]["post"]
    assert "parameters" not in post  # filters are for the list only


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"search": "mugs", "ordering": "price"},
        {"search": "mugg", "min_price": "1", "max_price": "90", "in_stock": "true"},
        {"ordering": "newest", "in_stock": "true"},
    ],
)
def test_query_count_is_flat_with_filters(params, django_assert_max_num_queries):
    ProductFactory.create_batch(3, name="Mug")
    with django_assert_max_num_queries(4):  # count, page, its images, its variants
        assert len(APIClient().get(api("products"), params).json()["results"]) == 3
    ProductFactory.create_batch(27, name="Mug")
    cache.clear()  # measure the queries, not the cached answer
    with django_assert_max_num_queries(4):
        assert len(APIClient().get(api("products"), params).json()["results"]) == 20


# --- the catalog page ------------------------------------------------------------------------


def test_the_page_filters_and_sorts_as_the_api_does(client, catalog):
    for params in (
        {"min_price": "12", "max_price": "30", "ordering": "-price"},
        {"in_stock": "true", "ordering": "newest"},
        {"ordering": "price"},
    ):
        assert page_names(client, **params) == api_names(**params)
    assert page_names(client, q="mug", in_stock="true", max_price="12") == api_names(
        search="mug", in_stock="true", max_price="12"
    )


def test_the_filter_form_works_without_javascript_and_shows_the_choices(client, catalog):
    response = client.get(
        reverse("shop:catalog"), {"q": "mug", "min_price": "10", "in_stock": "true"}
    )

    html = response.content.decode()
    assert '<form method="get" action="/" class="filters" aria-label="Filter and sort">' in html
    assert '<input type="hidden" name="q" value="mug">' in html
    assert 'name="min_price" value="10"' in html
    assert 'name="in_stock" value="true" id="id_in_stock" checked>' in html
    assert '<option value="" selected>Best match</option>' in html
    assert '<button type="submit">Apply</button>' in html
    assert '<a href="/?q=mug">Clear filters</a>' in html


def test_a_new_search_keeps_the_filters_in_force_and_lists_best_match_first(client, catalog):
    response = client.get(
        reverse("shop:catalog"),
        {
            "q": "mug",
            "min_price": "10",
            "max_price": "oops",
            "in_stock": "true",
            "ordering": "name",
        },
    )

    search_form = re.search(r'<form[^>]*role="search">.*?</form>', response.content.decode(), re.S)
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', search_form[0])
    # The price and stock filters go with the new words; a refused value and the sort do not.
    assert hidden == [("min_price", "10"), ("in_stock", "true")]


def test_clearing_the_filters_stays_in_the_category(client, catalog):
    kitchen = make_category("Kitchen")

    response = client.get(kitchen.get_absolute_url(), {"q": "mug", "in_stock": "true"})

    assert f'<a href="{kitchen.get_absolute_url()}?q=mug">Clear filters</a>' in (
        response.content.decode()
    )


def test_a_value_the_page_cannot_use_is_shown_and_the_rest_still_applies(client, catalog):
    response = client.get(reverse("shop:catalog"), {"min_price": "cheap", "in_stock": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true" aria-describedby="id_min_price_error"' in html
    assert '<div class="field-error" id="id_min_price_error">Enter an amount such as 12' in html
    assert [p.name for p in response.context["page"]] == [
        "Blue mug",
        "Enamel camp mug",
        "Steel kettle",
        "Zinc mug",
    ]


def test_pagination_keeps_the_search_filters_and_sort(client):
    for i in range(15):
        ProductFactory(name=f"Mug {i:02d}", price=Decimal(20 + i))

    params = {"q": "mug", "min_price": "21", "ordering": "-price"}
    first = client.get(reverse("shop:catalog"), params)
    second = client.get(reverse("shop:catalog"), {**params, "page": 2})

    assert 'href="?q=mug&amp;min_price=21&amp;ordering=-price&amp;page=2"' in (
        first.content.decode()
    )
    assert [p.name for p in second.context["page"]] == ["Mug 02", "Mug 01"]


def test_filters_that_leave_nothing_say_so(client, catalog):
    response = client.get(reverse("shop:catalog"), {"min_price": "1000"})

    assert "No products match these filters." in response.content.decode()
    assert list(response.context["page"]) == []


@pytest.mark.parametrize("products", [2, 30])
def test_page_query_count_does_not_grow_with_filters(
    client, products, django_assert_max_num_queries
):
    ProductFactory.create_batch(products, name="Blue mug")
    params = {"q": "mugs", "min_price": "1", "in_stock": "true", "ordering": "price"}

    # session-less visitor: count, page, its images, its variants, the top categories,
    # the cart badge
    with django_assert_max_num_queries(6):
        response = client.get(reverse("shop:catalog"), params)

    assert len(response.context["page"]) == min(products, 12)


def test_a_search_too_long_to_run_says_so_on_the_page(client, catalog):
    response = client.get(reverse("shop:catalog"), {"q": "mug " * 30})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-invalid="true" aria-describedby="id_q_error"' in html
    assert re.search(r'id="id_q_error" role="alert">Ensure this value has at most 100', html)
