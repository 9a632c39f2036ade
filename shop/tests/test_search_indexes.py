"""The catalog's queries use their indexes (shop/migrations/0004, Product.Meta.indexes):
EXPLAIN on a seeded table of 3,000 products names the index in the plan.

The planner chooses them by itself (no `enable_seqscan = off`) once the table looks as
autovacuum leaves it; at 100,000 products the same plans keep searches and filters fast
(bench/catalog.py measures them).
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict

from shop import selectors
from shop.filters import ProductFilter
from shop.models import Inventory, Product

pytestmark = pytest.mark.django_db

GIN_INDEXES = ["shop_product_search_vector_gin", "shop_product_name_trgm", "shop_product_sku_trgm"]
WORDS = ["mug", "kettle", "tote", "lamp", "pen", "chair", "scarf", "teapot", "vase", "clock"]
COLOURS = ["blue", "red", "green", "black", "white", "amber"]


@pytest.fixture
def seeded():
    count = 3000
    products = Product.objects.bulk_create(
        Product(
            sku=f"{WORDS[i % 10][:3].upper()}-{i:05d}",
            name=f"{COLOURS[i % 6].title()} {WORDS[i % 10]} {i}",
            slug=f"p-{i}",
            description=f"A {COLOURS[(i + 1) % 6]} thing for every day, number {i}.",
            price=Decimal(1 + i % 200),
        )
        for i in range(count)
    )
    Inventory.objects.bulk_create(
        Inventory(product=p, available=i % 4, received=i % 4) for i, p in enumerate(products)
    )
    with connection.cursor() as cursor:
        # What autovacuum does to a live table: move the rows just inserted from the GIN
        # indexes' pending lists into the indexes proper (the planner prices a long
        # pending list as slow), and gather statistics.
        for index in GIN_INDEXES:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute("ANALYZE shop_product")
        cursor.execute("ANALYZE shop_inventory")


def matching(**params):
    data = QueryDict(mutable=True)
    data.update(params)
    products = ProductFilter(data, queryset=selectors.products_for_sale())
    assert products.is_valid(), products.errors
    return products.qs


def page_plan(**params) -> str:
    """The plan of the first page of products for these query parameters."""
    return matching(**params)[:12].explain()


def count_plan(**params) -> str:
    """The plan of the query that counts them (the paginator's), which has no order."""
    return matching(**params).order_by().explain()


def test_the_catalog_queries_use_their_indexes(seeded):
    assert not Product.objects.filter(search_vector__isnull=True).exists()

    for query in ("mugs", "mugg", "MUG-001", "blue kettle"):
        for plan in (page_plan(search=query), count_plan(search=query)):
            assert "Bitmap Index Scan on shop_product_search_vector_gin" in plan, query
            assert "Bitmap Index Scan on shop_product_name_trgm" in plan, query
            assert "Bitmap Index Scan on shop_product_sku_trgm" in plan, query
            assert "Seq Scan on shop_product" not in plan

    for params in ({"min_price": "20", "max_price": "25"}, {"max_price": "10"}):
        plan = count_plan(**params)
        assert "Bitmap Index Scan on shop_product_price_id" in plan, params
        assert "Seq Scan on shop_product" not in plan

    for ordering, index in [
        ("price", "shop_product_price_id"),
        ("-price", "Index Scan Backward using shop_product_price_id"),
        ("", "shop_product_name_id"),
        ("name", "shop_product_name_id"),
        ("newest", "shop_product_newest"),
    ]:
        assert index in page_plan(ordering=ordering), ordering
