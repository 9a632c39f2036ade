"""Catalog search: what the catalog page's search box and `products?search=` find, best
first (both reach it through shop.filters).

On PostgreSQL a product matches when
- its name, SKU or description holds the words, stemmed: English full-text search over
  `Product.search_vector` ("mugs" finds "Mug"; websearch syntax, so any text is a query);
- or a word of its name is spelled much like the query: trigram word similarity, pg_trgm
  ("mugg" finds "Mug", "ketle" finds "Kettle");
- or its name or SKU contains the text as typed, as search always did ("MUG-0" finds
  "MUG-001");
- or, for a product with variants, an active variant's SKU contains it (the SKU on a
  label, "TEE-M-RED", finds the tee whose page offers that variant) or its words match
  ("navy" or "green tee" find the tee that comes in navy and green).
A word with a minus in front excludes what holds it, stemmed ("mug -blue": the mugs that
are not blue); the other conditions look for the rest of the text.
The best match comes first: the full-text rank (name and SKU weigh more than the
description) plus how alike the name is plus one for a SKU that starts with the query.
Every condition has its GIN index (shop/migrations/0004), so a search stays an index scan
at 100,000 products (bench/catalog.py measures it).

Other databases (SQLite, for `make run`) have none of this: there the name or SKU contains
the text, by name, as before.
"""

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connections
from django.db.models import BooleanField, Case, F, FloatField, Func, Q, QuerySet, Value, When
from django.db.models.functions import Upper

from shop.models import Product

# The text search configuration of the trigger that fills search_vector (migration 0008).
CONFIG = "english"


class IsOneOf(Func):
    """`expression = ANY(array)`. With the array from a subquery, PostgreSQL computes it
    once and looks the values up in the expression's index, so the condition joins the
    other conditions' bitmap OR; `IN (subquery)` would make it read the whole table."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()


def _parents_of_variants(query: str, words: SearchQuery | None = None) -> QuerySet[Product]:
    """The parents of the active variants whose SKU contains `query` or whose own words
    (name with its option values, SKU) match `words`; without full-text search, whose
    name or SKU contains it."""
    matches = Q(sku__icontains=query) | (
        Q(search_vector=words) if words is not None else Q(name__icontains=query)
    )
    return (
        Product.objects.filter(matches, structure=Product.Structure.CHILD, is_active=True)
        .values("parent_id")
        .order_by()
    )


def search_products(products: QuerySet[Product], *, query: str) -> QuerySet[Product]:
    """`products` that match `query` (see the module docstring), the best match first and
    then by name; all of them when `query` is blank."""
    query = query.strip()
    if not query:
        return products
    wanted, excluded = _wanted_and_excluded(query)
    postgres = connections[products.db].vendor == "postgresql"
    for word in excluded:
        products = products.exclude(
            Q(search_vector=SearchQuery(word, config=CONFIG)) if postgres else _contains(word)
        )
    if not postgres:
        if not wanted:
            return products.order_by("name", "id")
        variant_match = Q(pk__in=_parents_of_variants(wanted))
        return products.filter(_contains(wanted) | variant_match).order_by("name", "id")
    words = SearchQuery(query, config=CONFIG, search_type="websearch")
    if not wanted:  # only exclusions: what the full-text search leaves
        return products.filter(search_vector=words).order_by("name", "id")
    variant_match = Q(IsOneOf(F("pk"), ArraySubquery(_parents_of_variants(wanted, words))))
    sku_prefix = Case(
        When(sku__istartswith=wanted, then=Value(1.0)),
        default=Value(0.0),
        output_field=FloatField(),
    )
    return (
        # UPPER(name): the expression the trigram index is built on (migration 0008).
        products.alias(name_upper=Upper("name"))
        .filter(
            Q(search_vector=words)
            | Q(name_upper__trigram_word_similar=wanted)
            | _contains(wanted)
            | variant_match
        )
        .annotate(
            rank=SearchRank(F("search_vector"), words)
            + TrigramWordSimilarity(wanted, "name")
            + sku_prefix
        )
        .order_by("-rank", "name", "id")
    )


def _wanted_and_excluded(query: str) -> tuple[str, list[str]]:
    """The text to look for, and the words a leading minus excludes ("mug -blue")."""
    words = query.split()
    excluded = [word[1:] for word in words if word.startswith("-") and len(word) > 1]
    wanted = " ".join(word for word in words if not (word.startswith("-") and len(word) > 1))
    return wanted, excluded


def _contains(text: str) -> Q:
    return Q(name__icontains=text) | Q(sku__icontains=text)
