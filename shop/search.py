"""Catalog search: what the catalog page's search box and `products?search=` find, best
first (both reach it through shop.filters).

On PostgreSQL a product matches when
- its name, SKU or description holds the words, stemmed: English full-text search over
  `Product.search_vector` ("mugs" finds "Mug"; websearch syntax, so any text is a query);
- or a word of its name is spelled much like the query: trigram word similarity, pg_trgm
  ("mugg" finds "Mug", "ketle" finds "Kettle");
- or its name or SKU contains the text as typed, as search always did ("MUG-0" finds
  "MUG-001").
The best match comes first: the full-text rank (name and SKU weigh more than the
description) plus how alike the name is plus one for a SKU that starts with the query.
Every condition has its GIN index (shop/migrations/0004), so a search stays an index scan
at 100,000 products (bench/catalog.py measures it).

Other databases (SQLite, for `make run`) have none of this: there the name or SKU contains
the text, by name, as before.
"""

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connections
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Upper

from shop.models import Product

# The text search configuration of the trigger that fills search_vector (migration 0008).
CONFIG = "english"


def search_products(products: QuerySet[Product], *, query: str) -> QuerySet[Product]:
    """`products` that match `query` (see the module docstring), the best match first and
    then by name; all of them when `query` is blank."""
    query = query.strip()
    if not query:
        return products
    contains = Q(name__icontains=query) | Q(sku__icontains=query)
    if connections[products.db].vendor != "postgresql":
        return products.filter(contains).order_by("name", "id")
    words = SearchQuery(query, config=CONFIG, search_type="websearch")
    sku_prefix = Case(
        When(sku__istartswith=query, then=Value(1.0)), default=Value(0.0), output_field=FloatField()
    )
    return (
        # UPPER(name): the expression the trigram index is built on (migration 0008).
        products.alias(name_upper=Upper("name"))
        .filter(Q(search_vector=words) | Q(name_upper__trigram_word_similar=query) | contains)
        .annotate(
            rank=SearchRank(F("search_vector"), words)
            + TrigramWordSimilarity(query, "name")
            + sku_prefix
        )
        .order_by("-rank", "name", "id")
    )
