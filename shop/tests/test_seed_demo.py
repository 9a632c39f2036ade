"""manage.py seed_demo: demo data for development, never with DEBUG off."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from audit.models import AuditEvent
from shop import selectors
from shop.models import Inventory, Product, ProductImage, User

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_refuses_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        seed()

    assert not User.objects.exists()
    assert not Product.objects.exists()


def test_creates_admin_customer_and_products_with_stock(settings):
    settings.DEBUG = True

    output = seed()

    admin = User.objects.get(email="admin@example.com")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("admin-demo-password")
    customer = User.objects.get(email="customer@example.com")
    assert not customer.is_staff and not customer.is_superuser
    assert customer.check_password("customer-demo-password")
    assert Product.objects.count() >= 5
    in_stock = Inventory.objects.filter(available__gt=0)
    assert in_stock.count() >= 5
    # Every product but a parent has its inventory row, stock received through audited
    # restocks; a parent's stock is its variants'.
    assert Inventory.objects.count() == Product.objects.exclude(structure="parent").count()
    assert not Inventory.objects.filter(product__structure="parent").exists()
    for inv in Inventory.objects.all():
        assert (inv.reserved, inv.received) == (0, inv.available)
    assert AuditEvent.objects.filter(action="inventory.restocked").count() == in_stock.count()
    assert set(
        AuditEvent.objects.filter(action="product.created").values_list("actor", flat=True)
    ) == {admin.pk}
    assert f"({Product.objects.filter(parent=None).count()} new product(s))" in output


def test_is_idempotent(settings):
    settings.DEBUG = True
    seed()
    state = (
        list(User.objects.order_by("email").values_list("email", "is_superuser")),
        list(Product.objects.order_by("sku").values_list("sku", "price")),
        list(Inventory.objects.order_by("product_id").values_list("available", "received")),
        AuditEvent.objects.count(),
    )

    output = seed()

    assert "(0 new product(s))" in output
    assert (
        list(User.objects.order_by("email").values_list("email", "is_superuser")),
        list(Product.objects.order_by("sku").values_list("sku", "price")),
        list(Inventory.objects.order_by("product_id").values_list("available", "received")),
        AuditEvent.objects.count(),
    ) == state


# A compose or production stack (DEBUG off): the first staff user from createsuperuser,
# then the demo products without any account of known password.


def test_products_only_works_with_debug_off_and_creates_no_account(settings):
    settings.DEBUG = False
    call_command(
        "createsuperuser", "--noinput", email="owner@shop.example", stdout=StringIO()
    )  # the password comes later: `changepassword`, or DJANGO_SUPERUSER_PASSWORD
    owner = User.objects.get()

    out = StringIO()
    call_command("seed_demo", "--products-only", stdout=out)

    assert list(User.objects.all()) == [owner]
    assert owner.is_superuser and owner.is_staff
    assert Product.objects.count() >= 5
    assert Inventory.objects.filter(available__gt=0).count() >= 5
    assert set(
        AuditEvent.objects.filter(action="product.created").values_list("actor", flat=True)
    ) == {owner.pk}
    assert "by owner@shop.example" in out.getvalue()
    call_command("seed_demo", "--products-only", stdout=out)  # idempotent
    assert "(0 new product(s))" in out.getvalue()


def test_products_only_needs_a_superuser_first(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="createsuperuser"):
        call_command("seed_demo", "--products-only")

    assert not Product.objects.exists()


def test_without_debug_the_refusal_says_what_to_do_instead(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="seed_demo --products-only"):
        seed()


def test_demo_products_get_categories_and_real_images(settings):
    settings.DEBUG = True
    seed()
    mug = Product.objects.get(sku="MUG-001")
    assert [c.slug for c in mug.categories.all()] == ["drinkware"]
    assert list(
        selectors.category_ancestors(mug.categories.get()).values_list("slug", flat=True)
    ) == [
        "home",
        "kitchen",
    ]
    images = list(mug.images.all())
    assert [(i.alt, i.width, i.height) for i in images] == [
        ("Enamel camp mug, front view", 1200, 900),
        ("Enamel camp mug, detail view", 1200, 900),
    ]
    with Image.open(images[0].image) as picture:
        assert picture.format == "JPEG"
        assert len(picture.getcolors(maxcolors=1 << 20)) > 2  # a drawing, not a flat colour
    assert [r["width"] for r in images[0].renditions] == [320, 640, 960]
    assert ProductImage.objects.count() == 2 * Product.objects.filter(parent=None).count()
    tee = Product.objects.get(sku="TEE-002")
    assert (tee.structure, tee.option_names, tee.price) == ("parent", ["Size", "Colour"], 24)
    assert [(v.sku, v.option_label, v.units_available()) for v in tee.variants.order_by("id")] == [
        ("TEE-002-S-GRN", "S / Green", 10),
        ("TEE-002-M-GRN", "M / Green", 8),
        ("TEE-002-L-GRN", "L / Green", 0),
        ("TEE-002-M-NVY", "M / Navy", 3),
        ("TEE-002-XL-NVY", "XL / Navy", 6),
    ]
