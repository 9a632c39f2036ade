from decimal import Decimal

import pytest
from django.core.cache import cache

from shop import inventory, services
from shop.tests.factories import ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/products"


def available_of(response):
    return [row["available"] for row in response.json()["results"]]


def test_the_product_list_is_answered_from_the_cache(client, django_assert_num_queries):
    product = ProductFactory(stock=5)
    first = client.get(URL)
    inventory.adjust(product_id=product.pk, delta=-2, actor=StaffFactory(), reason="count")

    with django_assert_num_queries(0):
        second = client.get(URL)

    assert second.status_code == 200
    assert available_of(second) == available_of(first) == [5]
    cache.clear()  # what CATALOG_CACHE_SECONDS does by itself a few seconds later
    assert available_of(client.get(URL)) == [3]


def test_each_query_string_has_its_own_cached_answer(client):
    ProductFactory(name="Blue mug", stock=1)
    ProductFactory(name="Red pen", stock=1)

    assert [r["name"] for r in client.get(URL, {"search": "mug"}).json()["results"]] == ["Blue mug"]
    assert [r["name"] for r in client.get(URL, {"search": "pen"}).json()["results"]] == ["Red pen"]


def test_a_product_taken_off_sale_or_added_leaves_or_joins_the_list_at_once(
    client, django_capture_on_commit_callbacks
):
    staff = StaffFactory()
    mug = ProductFactory(name="Blue mug", stock=5)
    assert names_of(client.get(URL)) == ["Blue mug"]

    with django_capture_on_commit_callbacks(execute=True):
        services.update_product(product=mug, actor=staff, is_active=False)
    assert names_of(client.get(URL)) == []

    with django_capture_on_commit_callbacks(execute=True):
        services.create_product(sku="PEN-1", name="Brass pen", price=Decimal("4.00"), actor=staff)
    assert names_of(client.get(URL)) == ["Brass pen"]


def names_of(response):
    return [row["name"] for row in response.json()["results"]]
