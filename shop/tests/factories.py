from decimal import Decimal

import factory
from django.utils.text import slugify
from factory.django import DjangoModelFactory

from core.tests.helpers import grant
from shop.models import Address, Category, Inventory, Product, User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    """A member of staff; `permissions=["shop.add_product", ...]` are the model permissions
    they hold (none by default: is_staff alone opens the admin, not its changes)."""

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True

    @factory.post_generation
    def permissions(obj, create, extracted, **kwargs):
        if create and extracted:
            grant(obj, *extracted)


class ProductFactory(DjangoModelFactory):
    """A product with an inventory row; `stock` sets its available (and received) units."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    price = Decimal("10.00")
    # Not shipped unless a test says so: checkouts of such products need no address or
    # shipping method, as every checkout did before v1.1. (The model's default is True.)
    requires_shipping = False

    @factory.post_generation
    def stock(obj, create, extracted, **kwargs):
        if create:
            units = 10 if extracted is None else extracted
            # Test setup writes the row directly: it is the starting state, not a movement.
            Inventory.objects.create(product=obj, available=units, received=units)


def make_category(name: str, parent: Category | None = None, **fields) -> Category:
    """A category at the top of the tree, or under `parent` (treebeard places nodes
    itself: add_root / add_child, not a plain save)."""
    fields.setdefault("slug", slugify(name))
    if parent is None:
        return Category.objects.add_root({"name": name, **fields})
    # Siblings sort by name, so adding one may move others' paths: use the parent's now.
    parent.refresh_from_db()
    return Category.objects.add_child(parent, {"name": name, **fields})


def make_tee(*, actor, stock: dict[str, int] | None = None) -> Product:
    """A parent "Cotton tee" in Size x Colour with three variants: TEE-M-BLU (24.00, 5
    left), TEE-L-BLU (26.00, 0) and TEE-M-RED (22.00, 2); `stock` overrides by SKU."""
    from shop.variants import create_parent_product, create_variant

    stock = {"TEE-M-BLU": 5, "TEE-L-BLU": 0, "TEE-M-RED": 2, **(stock or {})}
    parent = create_parent_product(
        sku="TEE", name="Cotton tee", option_names=["Size", "Colour"], actor=actor
    )
    for sku, size, colour, price in [
        ("TEE-M-BLU", "M", "Blue", "24.00"),
        ("TEE-L-BLU", "L", "Blue", "26.00"),
        ("TEE-M-RED", "M", "Red", "22.00"),
    ]:
        create_variant(
            parent=parent,
            sku=sku,
            options={"Size": size, "Colour": colour},
            price=Decimal(price),
            initial_stock=stock[sku],
            actor=actor,
        )
    # Like ProductFactory's: tests' checkouts ship nothing unless they say so.
    Product.objects.filter(parent=parent).update(requires_shipping=False)
    parent.refresh_from_db()
    return parent


class AddressFactory(DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    full_name = "Ada Lovelace"
    line1 = "Unter den Linden 1"
    city = "Berlin"
    postal_code = "10117"
    country = "DE"
