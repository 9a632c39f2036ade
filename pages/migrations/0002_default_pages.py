"""The footer pages' first text (pages.defaults), in English and German."""

from django.db import migrations

from pages.defaults import add_default_pages


def add_pages(apps, schema_editor):
    add_default_pages(apps.get_model("pages", "Page"))


class Migration(migrations.Migration):
    dependencies = [("pages", "0001_page")]

    operations = [migrations.RunPython(add_pages, migrations.RunPython.noop)]
