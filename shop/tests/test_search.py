"""shop.search: full-text search by stem, trigram matching for typos and SKU prefixes,
ranked; the same results on the catalog page (`?q=`) and in the API (`?search=`)."""

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from core.tests.helpers import api
from shop import selectors
from shop.models import Product
from shop.search import search_products
from shop.services import update_product
from shop.tests.factories import ProductFactory, StaffFactory, make_tee

pytestmark = pytest.mark.django_db


def found(query: str) -> list[str]:
    return [p.name for p in search_products(selectors.products_for_sale(), query=query)]


def api_found(query: str) -> list[str]:
    response = APIClient().get(api("products"), {"search": query})
    assert response.status_code == 200
    return [p["name"] for p in response.json()["results"]]


def page_found(client, query: str) -> list[str]:
    response = client.get(reverse("shop:catalog"), {"q": query})
    assert response.status_code == 200
    return [p.name for p in response.context["page"]]


@pytest.fixture
def catalog():
    return {
        "mug": ProductFactory(sku="MUG-001", name="Blue mug", description="Stoneware, 350 ml."),
        "mug2": ProductFactory(sku="MUG-002", name="Enamel camp mug"),
        "mug100": ProductFactory(sku="MUG-100", name="Giant mug"),
        "kettle": ProductFactory(sku="KET-1", name="Steel kettle", description="Boils water."),
        "tote": ProductFactory(sku="TOT-1", name="Canvas tote", description="Carries mugs."),
        "pen": ProductFactory(sku="PEN-1", name="Brass pen"),
    }


def test_the_vector_follows_name_sku_and_description(catalog):
    kettle = Product.objects.get(pk=catalog["kettle"].pk)
    assert str(kettle.search_vector) == (
        "'-1':4A 'boil':5B 'ket':3A 'kettl':2A 'steel':1A 'water':6B"
    )
    # Renamed by staff (a save() that writes every column, the old vector included) or by
    # an UPDATE of the name alone, the product is found by its new name only.
    update_product(product=kettle, actor=StaffFactory(), name="Copper kettle")
    assert found("copper") == ["Copper kettle"]
    assert found("steel") == []
    Product.objects.filter(pk=kettle.pk).update(name="Iron kettle")
    assert found("iron") == ["Iron kettle"]
    assert found("copper") == []


def test_a_plural_finds_the_singular_in_names_and_descriptions(catalog):
    assert found("mugs") == ["Blue mug", "Enamel camp mug", "Giant mug", "Canvas tote"]
    assert found("kettles") == ["Steel kettle"]
    assert found("boiling") == ["Steel kettle"]  # "Boils water." in the description


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("mugg", ["Blue mug", "Enamel camp mug", "Giant mug"]),
        ("ketle", ["Steel kettle"]),
        ("brass pne", ["Brass pen"]),  # every word need not be right
        ("STEEL KETTEL", ["Steel kettle"]),
    ],
)
def test_a_typo_still_finds_the_product(catalog, query, names):
    assert found(query) == names


def test_a_sku_prefix_finds_the_skus_that_start_with_it_first(catalog):
    # Then other products named like it ("mug"): a near match is still a match.
    assert found("MUG-0") == ["Blue mug", "Enamel camp mug", "Giant mug"]
    assert found("mug-00")[:2] == ["Blue mug", "Enamel camp mug"]
    assert found("MUG-002")[0] == "Enamel camp mug"


def test_part_of_a_name_or_sku_still_matches_as_before(catalog):
    assert found("ettl") == ["Steel kettle"]
    assert found("OT-") == ["Canvas tote"]


def test_a_name_match_ranks_above_a_description_match(catalog):
    ProductFactory(name="Zinc mug")  # by name alone it would sort after "Canvas tote"

    names = found("mug")

    assert names[-1] == "Canvas tote"  # only its description says mug(s)
    assert set(names[:-1]) == {"Blue mug", "Enamel camp mug", "Giant mug", "Zinc mug"}


def test_the_closer_name_and_a_sku_prefix_rank_first(catalog):
    assert found("blue mug")[0] == "Blue mug"
    assert found("MUG-1")[0] == "Giant mug"  # the prefix outranks "MUG-001" containing it
    ProductFactory(sku="XMUG-100", name="Rack")
    assert found("mug-100") == ["Giant mug", "Rack"]


@pytest.mark.parametrize("query", ["the", "a & b", "!!", "'", "-mug", '"blue mug"', "or"])
def test_any_text_is_a_query(catalog, query):
    """websearch syntax: operators, quotes and stop words never make a database error."""
    assert isinstance(found(query), list)


def test_a_quoted_phrase_matches_the_phrase(catalog):
    assert found('"camp mug"') == ["Enamel camp mug"]


def test_a_blank_query_is_the_whole_catalog_by_name(catalog):
    assert found("  ") == sorted(p.name for p in catalog.values())


def test_the_page_and_the_api_find_the_same(client, catalog):
    for query in ("mugs", "mugg", "MUG-0", "boiling"):
        assert page_found(client, query) == api_found(query) == found(query)


def test_other_databases_fall_back_to_part_of_the_name_or_sku(catalog, monkeypatch):
    """SQLite (`make run`) has no full-text search: the old match, by name
    (test_search_sqlite.py runs it on SQLite itself)."""
    monkeypatch.setattr(connection, "vendor", "sqlite")

    assert found("mugs") == []
    assert found("MUG") == ["Blue mug", "Enamel camp mug", "Giant mug"]
    assert found("ot-") == ["Canvas tote"]


def test_a_variant_sku_finds_its_parent_and_an_inactive_variant_does_not(client, catalog):
    tee = make_tee(actor=StaffFactory(is_superuser=True))
    assert found("TEE-M-RED") == ["Cotton tee"]
    assert found("tee-m") == ["Cotton tee"]
    assert page_found(client, "TEE-M-RED") == api_found("TEE-M-RED") == ["Cotton tee"]

    Product.objects.filter(sku="TEE-M-RED").update(is_active=False)
    assert found("TEE-M-RED") == []
    assert found("TEE-M") == [tee.name]  # its other variant still matches


def test_a_word_with_a_minus_excludes_what_holds_it(catalog):
    # The typo and part-of-name matches look for "mug" alone; "Blue mug" is left out.
    assert set(found("mug -blue")) == {"Enamel camp mug", "Giant mug", "Canvas tote"}
    assert found("mugs -camp -giant -carries") == ["Blue mug"]  # stemmed, description too
    assert found("-mug") == ["Brass pen", "Steel kettle"]  # only exclusions: the rest


def test_other_databases_exclude_by_part_of_the_name_or_sku(catalog, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    assert found("mug -blue") == ["Enamel camp mug", "Giant mug"]
    assert found("-mug") == ["Brass pen", "Canvas tote", "Steel kettle"]


def test_a_variants_option_values_find_its_parent(catalog):
    make_tee(actor=StaffFactory(is_superuser=True))  # in Blue and Red

    assert found("red") == ["Cotton tee"]
    assert found("blue tee")[0] == "Cotton tee"
    assert "Cotton tee" not in found("green")
