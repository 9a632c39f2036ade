import pytest
from django.core.cache import cache

from shop import inventory
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
