"""The catalog's queries use their indexes (shop/migrations/0004, Product.Meta.indexes):
EXPLAIN on a seeded table of 3,000 products names the index in the plan.

On 3,000 rows reading the whole table (or the whole primary key index) is nearly as
cheap as any other plan, and the planner's choice then turns on the bloat earlier tests
left behind, so the plans are taken with `enable_seqscan` off, and for the searches with
plain index scans off too: the test proves that the indexes serve the queries. At 100,000
products the planner picks these plans by itself (bench/catalog.py measures them).
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
# A vocabulary as varied as a real catalog's, so that a word is as selective as it would be
# there (with ten nouns, every tenth product would match and no index would pay).
NOUNS = [
    "mug",
    "kettle",
    "tote",
    "lamp",
    "pen",
    "chair",
    "scarf",
    "teapot",
    "vase",
    "clock",
    "bowl",
    "plate",
    "jar",
    "stool",
    "bench",
    "table",
    "shelf",
    "basket",
    "tray",
    "board",
    "knife",
    "spoon",
    "fork",
    "pan",
    "bottle",
    "flask",
    "wallet",
    "belt",
    "glove",
    "towel",
    "apron",
    "notebook",
    "pencil",
    "mirror",
    "candle",
    "planter",
    "umbrella",
    "backpack",
    "journal",
    "coaster",
    "whisk",
]
COLOURS = [
    "blue",
    "red",
    "green",
    "black",
    "white",
    "amber",
    "olive",
    "navy",
    "ivory",
    "coral",
    "teal",
    "rust",
    "sand",
    "plum",
]


@pytest.fixture
def seeded():
    count = 3000
    products = Product.objects.bulk_create(
        Product(
            sku=f"{NOUNS[i % len(NOUNS)][:3].upper()}-{i:05d}",
            name=f"{COLOURS[i % len(COLOURS)].title()} {NOUNS[i % len(NOUNS)]} {i}",
            slug=f"p-{i}",
            description=f"A {COLOURS[(i + 1) % len(COLOURS)]} thing for every day, number {i}.",
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
        cursor.execute("SET LOCAL enable_seqscan = off")


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

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
    for query in ("mugs", "mugg", "MUG-001", "blue kettle"):
        for plan in (page_plan(search=query), count_plan(search=query)):
            assert "Bitmap Index Scan on shop_product_search_vector_gin" in plan, query
            assert "Bitmap Index Scan on shop_product_name_trgm" in plan, query
            assert "Bitmap Index Scan on shop_product_sku_trgm" in plan, query
            # Variants' SKUs: looked up once, their parents then found by primary key.
            assert "Index Cond: (id = ANY ($0))" in plan, query
            assert "Seq Scan on shop_product" not in plan

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = on")
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
