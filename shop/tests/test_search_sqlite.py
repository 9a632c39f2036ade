"""The demo database: `make run` without DATABASE_URL runs on SQLite, which has no
full-text search, trigrams or GIN indexes. Migration 0004 must still apply there, and the
catalog page and `GET products` must search (part of the name or SKU, as before), filter
and sort."""

from core.tests.helpers import run_on_sqlite

SCRIPT = """
import json
from django.test.utils import setup_test_environment
setup_test_environment()  # the test client records each page's context
from decimal import Decimal
from django.test import Client
from shop.tests.factories import ProductFactory, StaffFactory, make_tee

ProductFactory(name="Blue mug", sku="MUG-001", price=Decimal("12.00"), stock=0)
ProductFactory(name="Steel kettle", sku="KET-1", price=Decimal("40.00"))
ProductFactory(name="Enamel camp mug", sku="MUG-002", price=Decimal("30.00"))
make_tee(actor=StaffFactory(is_superuser=True))
client = Client()
page = client.get("/", {"q": "mug", "ordering": "-price"})
api = client.get("/api/v1/products", {"search": "MUG-0", "in_stock": "true"})
refused = client.get("/api/v1/products", {"min_price": "cheap"})
variant = client.get("/api/v1/products", {"search": "tee-m-red"})
print(json.dumps({
    "page": [page.status_code, [p.name for p in page.context["page"]]],
    "api": [api.status_code, [p["name"] for p in api.json()["results"]]],
    "stem": [p["name"] for p in client.get("/api/v1/products?search=mugs").json()["results"]],
    "refused": [refused.status_code, refused.json()["errors"]],
    "variant": [p["name"] for p in variant.json()["results"]],
}))
"""


def test_search_filters_and_sorting_on_the_demo_sqlite_database(tmp_path):
    result = run_on_sqlite(tmp_path, SCRIPT, ALLOWED_HOSTS="testserver")

    assert result == {
        "page": [200, ["Enamel camp mug", "Blue mug"]],
        "api": [200, ["Enamel camp mug"]],
        "stem": [],  # no stemming without PostgreSQL
        "refused": [400, {"min_price": ["Enter an amount such as 12 or 12.50."]}],
        "variant": ["Cotton tee"],  # a variant's SKU finds its parent
    }
