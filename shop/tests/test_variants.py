"""Products with variants (django-oscar's parent and child products): the rules of each
structure, the page that lets the customer pick a variant, the cart and checkout that
only ever see variants, the API's product object and the admin."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from core.tests.helpers import api, client_for
from merchants.tests.factories import make_merchant
from shop import cart, selectors
from shop.exceptions import InvalidCart
from shop.models import Inventory, Product
from shop.services import create_product, update_product
from shop.tests.admin_forms import inline_management, product_form
from shop.tests.factories import ProductFactory, StaffFactory, make_category, make_tee
from shop.variants import create_parent_product, create_variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return StaffFactory(is_superuser=True)


@pytest.fixture
def tee(staff):
    return make_tee(actor=staff)


def variant(sku) -> Product:
    return Product.objects.get(sku=sku)


# --- the rules -----------------------------------------------------------------------------------


def test_variants_are_stock_keeping_units_and_the_parent_has_no_stock(tee):
    assert tee.structure == "parent"
    assert not Inventory.objects.filter(product=tee).exists()
    blue = variant("TEE-M-BLU")
    assert (blue.structure, blue.parent, blue.name) == ("child", tee, "Cotton tee (M / Blue)")
    assert blue.option_label == "M / Blue"
    assert Inventory.objects.get(product=blue).available == 5
    # Each variant's initial stock is an audited restock, like any product's.
    restocks = AuditEvent.objects.filter(action="inventory.restocked")
    assert sorted(int(e.entity_id) for e in restocks) == sorted(
        [variant("TEE-M-BLU").pk, variant("TEE-M-RED").pk]
    )
    # The parent's price is its cheapest active variant's, its stock theirs together.
    assert tee.price == Decimal("22.00")
    assert selectors.products_for_sale().get(pk=tee.pk).units_available() == 7


def test_a_variant_needs_a_value_for_each_option_of_its_parent(tee, staff):
    with pytest.raises(ValidationError) as caught:
        create_variant(parent=tee, sku="TEE-S", options={"Size": "S"}, price=1, actor=staff)
    assert caught.value.message_dict == {
        "options": ["Give a value for each option of Cotton tee: Size, Colour."]
    }


def test_two_variants_never_share_their_values(tee, staff):
    with pytest.raises(ValidationError) as caught:
        create_variant(
            parent=tee,
            sku="TEE-M-BLU-2",
            options={"Colour": "Blue", "Size": "M"},
            price=1,
            actor=staff,
        )
    assert caught.value.message_dict == {"options": ["Cotton tee already has a variant M / Blue."]}
    # Nor in other letter case: customers would see "m / blue" beside "M / Blue".
    with pytest.raises(ValidationError):
        create_variant(
            parent=tee,
            sku="TEE-m-blu",
            options={"Colour": "blue ", "Size": "m"},
            price=1,
            actor=staff,
        )
    assert not Product.objects.filter(sku="TEE-m-blu").exists()


def test_option_names_are_each_once_in_any_letter_case(staff):
    with pytest.raises(ValidationError):
        create_parent_product(sku="CAP", name="Cap", option_names=["Size", "size"], actor=staff)


def test_only_a_parent_has_variants_and_only_a_variant_a_parent(staff):
    plain = ProductFactory(name="Mug")
    with pytest.raises(ValidationError) as caught:
        create_variant(parent=plain, sku="MUG-X", options={}, price=1, actor=staff)
    assert caught.value.message_dict == {"parent": ["A variant's parent must be a parent product."]}
    # The database keeps the rule too: a variant without a parent is refused.
    with pytest.raises(IntegrityError):
        Product.objects.filter(pk=plain.pk).update(structure="child")


def test_a_parent_product_cannot_receive_stock(staff):
    with pytest.raises(ValidationError):
        create_product(
            sku="P",
            name="P",
            price=Decimal("1"),
            structure="parent",
            option_names=["Size"],
            initial_stock=3,
            actor=staff,
        )
    assert not Product.objects.filter(sku="P").exists()


def test_changing_a_variants_price_keeps_the_parents_from_price(tee, staff):
    update_product(product=variant("TEE-M-RED"), actor=staff, price=Decimal("30.00"))
    tee.refresh_from_db()
    assert tee.price == Decimal("24.00")
    update_product(product=variant("TEE-M-BLU"), actor=staff, is_active=False)
    tee.refresh_from_db()
    assert tee.price == Decimal("26.00")


# --- cart and checkout see variants only ---------------------------------------------------------


def test_variants_are_sold_by_the_parents_merchant_and_ship_as_it_does(staff):
    merchant = make_merchant()
    download = create_parent_product(
        sku="FONT",
        name="Typeface",
        option_names=["Licence"],
        requires_shipping=False,
        merchant=merchant,
        actor=staff,
    )

    variant = create_variant(
        parent=download,
        sku="FONT-WEB",
        options={"Licence": "Web"},
        price=Decimal("40"),
        actor=staff,
    )

    assert (variant.merchant, variant.requires_shipping) == (merchant, False)
    update_product(product=download, actor=staff, requires_shipping=True)
    variant.refresh_from_db()
    assert variant.requires_shipping is True


def test_a_cart_holds_variants_never_their_parent(tee, customer):
    with pytest.raises(InvalidCart):
        cart.set_quantity(product_id=tee.pk, quantity=1, user=customer)
    cart.set_quantity(product_id=variant("TEE-M-BLU").pk, quantity=2, user=customer)
    (line,) = cart.get_cart(user=customer).lines
    assert (line.product.name, line.product.price, line.available) == (
        "Cotton tee (M / Blue)",
        Decimal("24.00"),
        5,
    )
    assert line.product.get_absolute_url() == f"/products/{tee.slug}/?variant={line.product.pk}"


def test_variants_of_a_deactivated_parent_are_not_for_sale(tee, staff, customer):
    update_product(product=tee, actor=staff, is_active=False)
    with pytest.raises(InvalidCart):
        cart.set_quantity(product_id=variant("TEE-M-BLU").pk, quantity=1, user=customer)


# --- the product page ----------------------------------------------------------------------------


def test_the_catalog_lists_the_parent_once_with_its_from_price(client, tee):
    response = client.get(reverse("shop:catalog"))
    assert [p.name for p in response.context["page"]] == ["Cotton tee"]
    assert "$22.00" in response.content.decode()


def test_the_page_lists_each_variant_with_its_price_and_stock(client, tee):
    response = client.get(tee.get_absolute_url())
    html = response.content.decode()
    assert [v.sku for v in response.context["variants"]] == ["TEE-M-BLU", "TEE-L-BLU", "TEE-M-RED"]
    # The first variant in stock is chosen; its price and stock head the page.
    assert response.context["selected"].sku == "TEE-M-BLU"
    assert 'data-testid="price" data-variant-price>$24.00<' in html
    assert 'stock--low" data-testid="stock" data-variant-stock>Only 5 left<' in html
    assert html.count('name="variant"') == 3
    assert f'value="{variant("TEE-M-BLU").pk}" checked' in html
    # A sold-out variant is shown, and cannot be picked.
    assert f'value="{variant("TEE-L-BLU").pk}" disabled' in html
    assert "Only 2 left" in html and "Sold out" in html
    assert "<legend>Choose Size / Colour</legend>" in html


def test_a_variants_url_shows_its_price_and_stock(client, tee):
    red = variant("TEE-M-RED")
    response = client.get(red.get_absolute_url())
    assert response.context["selected"] == red
    html = response.content.decode()
    assert "data-variant-price>$22.00<" in html
    assert "data-variant-stock>Only 2 left<" in html
    assert f'value="{red.pk}" checked' in html


def test_picking_a_variant_puts_that_variant_in_the_cart(client, tee):
    red = variant("TEE-M-RED")
    response = client.post(
        reverse("shop:cart-add", args=[tee.pk]), {"variant": red.pk, "quantity": 2}
    )
    assert response.status_code == 302
    assert dict(client.session[cart.SESSION_KEY]) == {str(red.pk): 2}


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"quantity": 1}, "variant", "Choose an option."),
        ({"variant": "999999", "quantity": 1}, "variant", "Choose one of the options shown."),
        ({"variant": "L-BLU", "quantity": 1}, "quantity", "This product is sold out."),
        ({"variant": "M-RED", "quantity": 3}, "quantity", "Only 2 left in stock."),
    ],
)
def test_a_wrong_pick_changes_nothing_and_says_why(client, tee, data, field, error):
    if data.get("variant", "").endswith(("BLU", "RED")):
        data = {**data, "variant": variant(f"TEE-{data['variant']}").pk}
    response = client.post(reverse("shop:cart-add", args=[tee.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [error]
    assert error in response.content.decode()
    assert cart.SESSION_KEY not in client.session


def test_a_parents_page_takes_a_fixed_number_of_queries(
    client, tee, staff, django_assert_max_num_queries
):
    for i in range(10):
        create_variant(
            parent=tee,
            sku=f"TEE-XL-{i}",
            options={"Size": "XL", "Colour": f"Shade {i}"},
            price=Decimal("25.00"),
            initial_stock=1,
            actor=staff,
        )
    # product, images, variants, breadcrumb category, form's choices (none: not bound)
    with django_assert_max_num_queries(5):
        response = client.get(tee.get_absolute_url())
    assert len(response.context["variants"]) == 13


# --- API -----------------------------------------------------------------------------------------


def test_the_api_shows_a_parent_with_its_variants(tee):
    body = APIClient().get(api(f"products/{tee.pk}")).json()
    blue, red = variant("TEE-M-BLU"), variant("TEE-M-RED")
    assert {k: body[k] for k in ("structure", "parent", "option_names", "options")} == {
        "structure": "parent",
        "parent": None,
        "option_names": ["Size", "Colour"],
        "options": {},
    }
    assert (body["price"], body["available"]) == ("22.00", 7)
    assert body["variants"][0] == {
        "id": blue.pk,
        "sku": "TEE-M-BLU",
        "name": "Cotton tee (M / Blue)",
        "price": "24.00",
        "currency": "usd",
        "available": 5,
        "options": {"Size": "M", "Colour": "Blue"},
    }
    assert [v["sku"] for v in body["variants"]] == ["TEE-M-BLU", "TEE-L-BLU", "TEE-M-RED"]
    child = APIClient().get(api(f"products/{red.pk}")).json()
    assert (child["structure"], child["parent"], child["options"], child["variants"]) == (
        "child",
        tee.pk,
        {"Size": "M", "Colour": "Red"},
        [],
    )


def test_the_api_list_shows_parents_not_their_variants_in_flat_queries(
    tee, staff, django_assert_max_num_queries
):
    for n in range(4):
        parent = create_parent_product(
            sku=f"P{n}", name=f"Cap {n}", option_names=["Size"], actor=staff
        )
        for size in ("S", "M", "L"):
            create_variant(
                parent=parent, sku=f"P{n}-{size}", options={"Size": size}, price=1, actor=staff
            )
    with django_assert_max_num_queries(4):
        results = APIClient().get(api("products")).json()["results"]
    assert [p["sku"] for p in results] == ["P0", "P1", "P2", "P3", "TEE"]
    assert [len(p["variants"]) for p in results] == [3, 3, 3, 3, 3]


def test_the_api_cart_refuses_a_parent_and_takes_a_variant(tee, customer):
    client = client_for(customer)
    refused = client.put(api(f"cart/items/{tee.pk}"), {"quantity": 1}, format="json")
    assert refused.status_code == 400
    taken = client.put(api(f"cart/items/{variant('TEE-M-BLU').pk}"), {"quantity": 1}, format="json")
    assert taken.json()["items"][0]["sku"] == "TEE-M-BLU"


# --- admin ---------------------------------------------------------------------------------------


def test_staff_create_a_parent_then_its_variants_on_its_page(staff_client, superuser):
    response = staff_client.post(
        reverse("admin:shop_product_add"),
        product_form(
            sku="CAP",
            name="Wool cap",
            price="",
            initial_stock="",
            structure="parent",
            option_names="Size, Colour",
        ),
    )
    assert response.status_code == 302
    cap = Product.objects.get(sku="CAP")
    assert (cap.structure, cap.option_names) == ("parent", ["Size", "Colour"])
    assert cap.requires_shipping is False  # as ticked (here: not) on the add page

    response = staff_client.post(
        reverse("admin:shop_product_change", args=[cap.pk]),
        {
            **product_form(cap),
            **inline_management("variants", total=1),
            "variants-0-options": "M / Grey",
            "variants-0-sku": "CAP-M-GRY",
            "variants-0-price": "29.00",
            "variants-0-is_active": "on",
            "variants-0-initial_stock": "4",
        },
    )
    assert response.status_code == 302, response.context["errors"]
    grey = Product.objects.get(sku="CAP-M-GRY")
    assert (grey.parent, grey.options, grey.name) == (
        cap,
        {"Size": "M", "Colour": "Grey"},
        "Wool cap (M / Grey)",
    )
    assert Inventory.objects.get(product=grey).available == 4
    assert grey.requires_shipping is False  # as its parent
    cap.refresh_from_db()
    assert cap.price == Decimal("29.00")
    assert AuditEvent.objects.filter(action="product.created", actor=superuser).count() == 2


def test_the_admin_refuses_values_that_do_not_fit_the_options(staff_client, tee):
    response = staff_client.post(
        reverse("admin:shop_product_change", args=[tee.pk]),
        {
            **product_form(tee),
            **inline_management("variants", total=4, initial=3),
            **{f"variants-{i}-id": str(v.pk) for i, v in enumerate(tee.variants.order_by("id"))},
            **{f"variants-{i}-parent": str(tee.pk) for i in range(4)},
            **{
                f"variants-{i}-price": str(v.price)
                for i, v in enumerate(tee.variants.order_by("id"))
            },
            **{f"variants-{i}-is_active": "on" for i in range(3)},
            "variants-3-options": "XL",
            "variants-3-sku": "TEE-XL",
            "variants-3-price": "20.00",
            "variants-3-is_active": "on",
        },
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][1].formset
    assert formset.errors[3] == {
        "options": ["Give one value for each of Size, Colour, separated by /."]
    }
    assert not Product.objects.filter(sku="TEE-XL").exists()


def test_the_admin_pages_of_parents_and_variants_render(staff_client, tee):
    changelist = staff_client.get(reverse("admin:shop_product_changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == 4
    parent_page = staff_client.get(reverse("admin:shop_product_change", args=[tee.pk]))
    assert parent_page.status_code == 200
    variant_forms = parent_page.context["inline_admin_formsets"][1].formset.forms
    assert [f.initial.get("options") for f in variant_forms[:3]] == [
        "M / Blue",
        "L / Blue",
        "M / Red",
    ]
    child_page = staff_client.get(
        reverse("admin:shop_product_change", args=[variant("TEE-M-RED").pk])
    )
    assert child_page.status_code == 200


def test_staff_change_a_variants_price_on_its_parents_page(staff_client, tee, superuser):
    existing = list(tee.variants.order_by("id"))
    data = {
        **product_form(tee),
        **inline_management("variants", total=3, initial=3),
    }
    for i, v in enumerate(existing):
        data.update(
            {
                f"variants-{i}-id": str(v.pk),
                f"variants-{i}-parent": str(tee.pk),
                f"variants-{i}-price": "19.00" if v.sku == "TEE-M-BLU" else str(v.price),
                f"variants-{i}-is_active": "on",
            }
        )
    response = staff_client.post(reverse("admin:shop_product_change", args=[tee.pk]), data)
    assert response.status_code == 302
    assert variant("TEE-M-BLU").price == Decimal("19.00")
    tee.refresh_from_db()
    assert tee.price == Decimal("19.00")
    event = AuditEvent.objects.get(action="product.updated", entity_id=str(variant("TEE-M-BLU").pk))
    assert (event.actor, event.after["price"]) == (superuser, "19.00")


def test_a_parents_price_is_not_set_by_hand(tee):
    staff = StaffFactory(permissions=["shop.change_product"])
    response = client_for(staff).patch(api(f"products/{tee.pk}"), {"price": "1.00"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "price": ["A parent product's price is its cheapest variant's: change theirs."]
    }
    tee.refresh_from_db()
    assert tee.price == Decimal("22.00")


def test_a_parent_whose_variants_are_all_sold_out_says_so(client, staff):
    tee = make_tee(actor=staff, stock={"TEE-M-BLU": 0, "TEE-M-RED": 0})
    response = client.get(tee.get_absolute_url())
    html = response.content.decode()
    assert "Sold out for now. Check back soon." in html
    assert 'name="variant"' not in html
    assert "data-variant-stock>Sold out<" in html


def test_a_parent_is_found_through_its_category(tee):
    tops = make_category("Tops")
    tee.categories.add(tops)
    body = APIClient().get(api("products?category=tops")).json()
    assert [(p["sku"], p["structure"], len(p["variants"])) for p in body["results"]] == [
        ("TEE", "parent", 3)
    ]
