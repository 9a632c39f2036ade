# Catalog search (issue 17, shop.search): full-text search over a stored tsvector kept in
# step by a trigger, trigram matching for typos and SKU prefixes, and b-tree indexes for
# the sort orders and the price range.
#
# The PostgreSQL parts (pg_trgm, the trigger, the GIN indexes) are raw SQL outside the
# model state on purpose: SQLite (`make run`) has none of them, and a GIN index in
# Product.Meta would break every later migration that makes SQLite rebuild the table.
# Backfilling an existing catalog takes one UPDATE (the trigger fills each row).

import django.contrib.postgres.search
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

FORWARD = """
CREATE FUNCTION shop_product_search_vector() RETURNS trigger AS $$
BEGIN
    -- Name and SKU weigh most (A), the description less (B): see shop.search.
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A')
        || setweight(to_tsvector('english', coalesce(NEW.sku, '')), 'A')
        || setweight(to_tsvector('english', coalesce(NEW.description, '')), 'B');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- search_vector is in the column list so that nothing can write it except the trigger
-- (Django's save() lists every column); an update of price or stock alone skips it.
CREATE TRIGGER shop_product_search_vector
    BEFORE INSERT OR UPDATE OF name, sku, description, search_vector ON shop_product
    FOR EACH ROW EXECUTE FUNCTION shop_product_search_vector();

UPDATE shop_product SET search_vector = NULL;

CREATE INDEX shop_product_search_vector_gin ON shop_product USING gin (search_vector);
-- UPPER(): the expression of Django's icontains/istartswith, so one index serves them and
-- the trigram word similarity (which ignores case anyway).
CREATE INDEX shop_product_name_trgm ON shop_product USING gin (UPPER(name) gin_trgm_ops);
CREATE INDEX shop_product_sku_trgm ON shop_product USING gin (UPPER(sku) gin_trgm_ops);
"""

BACKWARD = """
DROP INDEX IF EXISTS shop_product_sku_trgm;
DROP INDEX IF EXISTS shop_product_name_trgm;
DROP INDEX IF EXISTS shop_product_search_vector_gin;
DROP TRIGGER IF EXISTS shop_product_search_vector ON shop_product;
DROP FUNCTION IF EXISTS shop_product_search_vector();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0007_product_variants"),
    ]

    operations = [
        TrigramExtension(),  # does nothing on SQLite
        migrations.AddField(
            model_name="product",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["name", "id"], name="shop_product_name_id"),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["price", "id"], name="shop_product_price_id"),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["-created_at", "-id"], name="shop_product_newest"),
        ),
        migrations.RunPython(install, uninstall),
    ]
