"""The merchant pages (Django test client): apply, the merchant area with its own
products, stock adjustments, sales and earnings; another merchant's product is 404."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from merchants.models import Merchant
from merchants.tests.factories import make_merchant
from orders.models import Order
from orders.tests.factories import make_order
from shop.models import Inventory, Product
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory
from shop.variants import create_parent_product

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def merchant_client(client):
    merchant = make_merchant(user=UserFactory(), display_name="Ann's Pottery")
    client.force_login(merchant.user)
    client.merchant = merchant
    return client


def test_a_customer_applies_and_waits_for_approval(customer_client, customer):
    url = reverse("merchant:apply")
    page = customer_client.get(url)
    assert page.status_code == 200
    assert 'name="display_name"' in page.content.decode()

    response = customer_client.post(url, {"display_name": "Bob's Lamps"}, follow=True)

    merchant = Merchant.objects.get(user=customer)
    assert (merchant.display_name, merchant.status) == ("Bob's Lamps", "pending")
    text = response.content.decode()
    assert "we will look at your application soon" in text
    assert 'data-testid="merchant-status"' in text
    # Pending: the merchant area sends them back here; a second application is not offered.
    assert customer_client.get(reverse("merchant:home"))["Location"] == url
    assert 'name="display_name"' not in customer_client.get(url).content.decode()
    customer_client.post(url, {"display_name": "Again"})
    assert Merchant.objects.filter(user=customer).count() == 1


def test_the_pages_need_a_signed_in_approved_merchant(customer_client):
    for name in ("merchant:home", "merchant:product-create", "merchant:sales"):
        assert reverse("login") in Client().get(reverse(name))["Location"]
        assert customer_client.get(reverse(name))["Location"] == reverse("merchant:apply")


def test_an_approved_merchant_adds_a_product(merchant_client):
    response = merchant_client.post(
        reverse("merchant:product-create"),
        {
            "sku": "POT-1",
            "name": "Teapot",
            "description": "",
            "price": "24.50",
            "initial_stock": "4",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(sku="POT-1")
    assert (product.merchant, product.inventory.available) == (merchant_client.merchant, 4)
    assert AuditEvent.objects.get(action="product.created").actor == merchant_client.merchant.user

    home = merchant_client.get(reverse("merchant:home")).content.decode()
    assert "Teapot" in home and "$24.50" in home
    # A taken SKU is a form error; nothing is made.
    again = merchant_client.post(
        reverse("merchant:product-create"),
        {"sku": "POT-1", "name": "Other", "price": "1.00", "initial_stock": "0"},
    )
    assert again.status_code == 200
    assert "already exists" in again.content.decode()
    assert Product.objects.count() == 1


def test_a_merchant_edits_and_adjusts_their_product(merchant_client):
    product = ProductFactory(merchant=merchant_client.merchant, name="Teapot", stock=3)
    edit = reverse("merchant:product-edit", args=[product.pk])
    assert merchant_client.get(edit).status_code == 200

    merchant_client.post(
        edit, {"name": "Big teapot", "description": "", "price": "30.00", "is_active": "on"}
    )
    product.refresh_from_db()
    assert (product.name, product.price) == ("Big teapot", D("30.00"))

    adjust = reverse("merchant:product-adjust", args=[product.pk])
    response = merchant_client.post(adjust, {"delta": "-2", "reason": "broken"}, follow=True)
    assert "The stock of Big teapot was changed." in response.content.decode()
    assert Inventory.objects.get(product=product).available == 1
    event = AuditEvent.objects.get(action="inventory.adjusted")
    assert event.actor == merchant_client.merchant.user

    short = merchant_client.post(adjust, {"delta": "-5", "reason": "lost"}, follow=True)
    assert 'role="alert"' in short.content.decode()
    assert Inventory.objects.get(product=product).available == 1
    assert merchant_client.post(adjust, {"delta": "0", "reason": "x"}).status_code == 400


def test_another_merchants_product_and_the_shops_are_404(merchant_client):
    others = ProductFactory(merchant=make_merchant(), name="Theirs", stock=5)
    shops = ProductFactory(name="The shop's", stock=5)
    for product in (others, shops):
        edit = reverse("merchant:product-edit", args=[product.pk])
        assert merchant_client.get(edit).status_code == 404
        assert merchant_client.post(edit, {"name": "Mine", "price": "1.00"}).status_code == 404
        adjust = reverse("merchant:product-adjust", args=[product.pk])
        assert merchant_client.post(adjust, {"delta": "-5", "reason": "x"}).status_code == 404
    assert list(Product.objects.order_by("pk").values_list("name", "inventory__available")) == [
        ("Theirs", 5),
        ("The shop's", 5),
    ]


def test_sales_and_earnings_show_each_sale_with_fee_and_net(merchant_client, settings):
    settings.MARKETPLACE_FEE_PERCENT = D("10")
    pot = ProductFactory(
        merchant=merchant_client.merchant, name="Teapot", price=D("20.00"), stock=10
    )
    ProductFactory(merchant=make_merchant(), name="Not mine", stock=10)
    make_order(lines=[(pot.pk, 2)], status=Order.Status.PAID)
    make_order(lines=[(pot.pk, 1)], status=Order.Status.PAYMENT_PENDING)

    page = merchant_client.get(reverse("merchant:sales"))

    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('data-testid="sale-row"') == 1
    assert "$40.00" in text and "$4.00" in text and "$36.00" in text
    assert text.count('data-testid="earning-entry"') == 1
    assert "Not mine" not in text


def test_a_merchant_sells_a_product_with_options(merchant_client):
    response = merchant_client.post(
        reverse("merchant:parent-create"),
        {
            "sku": "TEE",
            "name": "Tee",
            "description": "Organic cotton.",
            "option_names": "Size, Colour",
            "is_active": "on",
        },
        follow=True,
    )
    tee = Product.objects.get(sku="TEE")
    assert (tee.structure, tee.option_names, tee.merchant) == (
        "parent",
        ["Size", "Colour"],
        merchant_client.merchant,
    )
    assert "Tee is created: now add its variants." in response.content.decode()
    assert 'data-testid="variant-form"' in response.content.decode()
    assert 'data-testid="adjust-form"' not in response.content.decode()

    add_variant = reverse("merchant:variant-create", args=[tee.pk])
    blue = {
        "variant-sku": "TEE-M-BLU",
        "variant-option_0": "M",
        "variant-option_1": "Blue",
        "variant-price": "24.00",
        "variant-initial_stock": "5",
        "variant-is_active": "on",
    }
    assert merchant_client.post(add_variant, blue).status_code == 302
    # The same values again, or a value missing: the form says why, nothing is added.
    again = merchant_client.post(add_variant, {**blue, "variant-sku": "TEE-M-BLU-2"})
    missing = merchant_client.post(
        add_variant, {**blue, "variant-sku": "TEE-L", "variant-option_1": ""}
    )
    assert (again.status_code, missing.status_code) == (400, 400)
    assert 'role="alert"' in again.content.decode()
    assert 'aria-describedby="id_variant-option_1_error"' in missing.content.decode()

    variant = Product.objects.get(parent=tee)
    assert (variant.sku, variant.options, variant.merchant, variant.inventory.available) == (
        "TEE-M-BLU",
        {"Size": "M", "Colour": "Blue"},
        merchant_client.merchant,
        5,
    )
    home = merchant_client.get(reverse("merchant:home")).content.decode()
    assert "From $24.00" in home and "1 variant" in home
    page = merchant_client.get(reverse("merchant:product-edit", args=[tee.pk])).content.decode()
    assert page.count('data-testid="merchant-variant"') == 1
    # A variant's stock is adjusted on its own page; the parent has none to adjust.
    adjust = reverse("merchant:product-adjust", args=[variant.pk])
    assert merchant_client.post(adjust, {"delta": "3", "reason": "count"}).status_code == 302
    assert Inventory.objects.get(product=variant).available == 8
    parent_adjust = reverse("merchant:product-adjust", args=[tee.pk])
    assert merchant_client.post(parent_adjust, {"delta": "3", "reason": "x"}).status_code == 404

    # Customers buy the variant; the merchant sees the sale (shipped to nobody: a test order).
    Product.objects.filter(pk=variant.pk).update(requires_shipping=False)
    make_order(lines=[(variant.pk, 2)], status=Order.Status.PAID)
    sales = merchant_client.get(reverse("merchant:sales")).content.decode()
    assert sales.count('data-testid="sale-row"') == 1 and "TEE-M-BLU" in sales


def test_variants_are_added_only_to_the_merchants_own_products_with_options(merchant_client):
    staff = StaffFactory(is_superuser=True)
    theirs = create_parent_product(
        sku="THEIRS", name="Theirs", option_names=["Size"], merchant=make_merchant(), actor=staff
    )
    shops = create_parent_product(
        sku="SHOPS", name="The shop's", option_names=["Size"], actor=staff
    )
    plain = ProductFactory(merchant=merchant_client.merchant)
    body = {
        "variant-sku": "NEW",
        "variant-option_0": "M",
        "variant-price": "1.00",
        "variant-initial_stock": "1",
    }

    for product in (theirs, shops, plain):
        url = reverse("merchant:variant-create", args=[product.pk])
        assert merchant_client.post(url, body).status_code == 404
    assert not Product.objects.filter(sku="NEW").exists()
