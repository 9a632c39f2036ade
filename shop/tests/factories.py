from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from core.tests.helpers import grant
from shop.models import Address, Inventory, Product, User


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


class AddressFactory(DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    full_name = "Ada Lovelace"
    line1 = "Unter den Linden 1"
    city = "Berlin"
    postal_code = "10117"
    country = "DE"
