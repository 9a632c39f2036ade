"""Stock movements (shop.inventory), the database CHECK constraints and the catalog services."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from audit.models import AuditEvent
from shop import inventory
from shop.exceptions import InsufficientStock, InvalidCart
from shop.models import Inventory, Product
from shop.services import create_product, update_product
from shop.tests.factories import ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db


def counters(product) -> tuple[int, int, int]:
    inv = Inventory.objects.get(product=product)
    return inv.available, inv.reserved, inv.received


def set_counters(product, *, available, reserved, received):
    """Test setup: put a row in a known starting state (not a movement)."""
    Inventory.objects.filter(product=product).update(
        available=available, reserved=reserved, received=received
    )


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def pair():
    a, b = ProductFactory(stock=0), ProductFactory(stock=0)
    set_counters(a, available=10, reserved=4, received=14)
    set_counters(b, available=6, reserved=2, received=8)
    return a, b


# --- arithmetic --------------------------------------------------------------------------------


def test_reserve_moves_available_to_reserved(pair):
    a, b = pair
    inventory.reserve(quantities={a.pk: 3, b.pk: 6})
    assert counters(a) == (7, 7, 14)
    assert counters(b) == (0, 8, 8)


def test_commit_takes_reserved_stock_out(pair):
    a, b = pair
    inventory.commit(quantities={a.pk: 4, b.pk: 1})
    assert counters(a) == (10, 0, 14)
    assert counters(b) == (6, 1, 8)


def test_release_moves_reserved_back_to_available(pair):
    a, b = pair
    inventory.release(quantities={a.pk: 3, b.pk: 2})
    assert counters(a) == (13, 1, 14)
    assert counters(b) == (8, 0, 8)


def test_restock_adds_available_and_received(pair, staff):
    a, b = pair
    inventory.restock(product_id=a.pk, quantity=5, actor=staff)
    assert counters(a) == (15, 4, 19)
    assert counters(b) == (6, 2, 8)


@pytest.mark.parametrize(("delta", "expected"), [(3, (13, 4, 17)), (-10, (0, 4, 4))])
def test_adjust_changes_available_and_received(pair, staff, delta, expected):
    a, _ = pair
    inventory.adjust(product_id=a.pk, delta=delta, actor=staff, reason="count")
    assert counters(a) == expected


def test_return_to_stock_adds_available_only(pair):
    a, b = pair
    inventory.return_to_stock(quantities={a.pk: 2, b.pk: 1})
    assert counters(a) == (12, 4, 14)
    assert counters(b) == (7, 2, 8)


def test_empty_movement_does_nothing(pair):
    a, _ = pair
    events = AuditEvent.objects.count()
    inventory.reserve(quantities={})
    assert counters(a) == (10, 4, 14)
    assert AuditEvent.objects.count() == events


def test_lock_returns_rows_in_product_id_order(pair):
    a, b = pair
    bare = Product.objects.create(sku="BARE", name="Bare", slug="bare", price=Decimal("1.00"))
    with transaction.atomic():
        rows = inventory.lock(product_ids=[b.pk, a.pk, bare.pk])
    assert list(rows) == sorted([a.pk, b.pk])
    assert rows[a.pk].product == a


# --- refusals change nothing ----------------------------------------------------------------


def test_adjust_below_zero_is_refused_and_changes_nothing(pair, staff):
    a, _ = pair
    events = AuditEvent.objects.count()

    with pytest.raises(InsufficientStock) as excinfo:
        inventory.adjust(product_id=a.pk, delta=-11, actor=staff, reason="lost")

    assert (excinfo.value.product_id, excinfo.value.requested, excinfo.value.available) == (
        a.pk,
        11,
        10,
    )
    # Said as a correction, not as if someone had ordered 11.
    assert excinfo.value.detail == f"{a.name}: only 10 available, 11 cannot be taken away."
    assert counters(a) == (10, 4, 14)
    assert AuditEvent.objects.count() == events


def test_reserve_more_than_available_changes_no_row(pair):
    a, b = pair
    events = AuditEvent.objects.count()

    with pytest.raises(InsufficientStock) as excinfo:
        inventory.reserve(quantities={a.pk: 1, b.pk: 7})

    assert (excinfo.value.product_id, excinfo.value.requested, excinfo.value.available) == (
        b.pk,
        7,
        6,
    )
    assert counters(a) == (10, 4, 14)
    assert counters(b) == (6, 2, 8)
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("quantity", [0, -1, -50])
def test_restock_needs_a_positive_quantity(pair, staff, quantity):
    a, _ = pair
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidCart, match="positive quantity"):
        inventory.restock(product_id=a.pk, quantity=quantity, actor=staff)
    assert counters(a) == (10, 4, 14)
    assert AuditEvent.objects.count() == events


def test_adjust_by_zero_is_refused(pair, staff):
    a, _ = pair
    with pytest.raises(InvalidCart, match="non-zero"):
        inventory.adjust(product_id=a.pk, delta=0, actor=staff, reason="nothing")
    assert counters(a) == (10, 4, 14)


def test_movement_on_a_product_without_inventory_is_refused(pair, staff):
    a, _ = pair
    bare = Product.objects.create(sku="BARE", name="Bare", slug="bare", price=Decimal("1.00"))
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidCart, match=f"No stock record for product {bare.pk}"):
        inventory.release(quantities={a.pk: 1, bare.pk: 1})
    assert counters(a) == (10, 4, 14)
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("movement", [inventory.commit, inventory.release])
def test_taking_more_than_reserved_is_stopped_by_the_database(pair, movement):
    a, _ = pair
    with pytest.raises(IntegrityError), transaction.atomic():
        movement(quantities={a.pk: 5})
    assert counters(a) == (10, 4, 14)


# --- CHECK constraints ------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["available", "reserved"])
def test_check_constraint_rejects_a_negative_counter(pair, column):
    a, _ = pair
    sql = f"UPDATE shop_inventory SET {column} = -1 WHERE product_id = %s"  # noqa: S608
    with (
        pytest.raises(IntegrityError, match=f"inventory_{column}_gte_0"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [a.pk])
    assert counters(a) == (10, 4, 14)


def test_check_constraint_allows_zero(pair):
    a, _ = pair
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE shop_inventory SET available = 0, reserved = 0 WHERE product_id = %s", [a.pk]
        )
    assert counters(a)[:2] == (0, 0)


def test_check_constraint_rejects_a_negative_price(pair):
    a, _ = pair
    with pytest.raises(IntegrityError, match="product_price_gte_0"), transaction.atomic():
        Product.objects.filter(pk=a.pk).update(price=Decimal("-0.01"))
    assert Product.objects.get(pk=a.pk).price == Decimal("10.00")


# --- shop.services ----------------------------------------------------------------------------


def test_create_product_with_initial_stock_is_audited_as_a_restock(staff):
    product = create_product(
        sku="MUG-1", name="Camp mug", price=Decimal("12.50"), actor=staff, initial_stock=7
    )

    product = Product.objects.get(pk=product.pk)
    assert (product.sku, product.name, product.slug, product.price, product.is_active) == (
        "MUG-1",
        "Camp mug",
        "camp-mug",
        Decimal("12.50"),
        True,
    )
    assert counters(product) == (7, 0, 7)
    created = AuditEvent.objects.get(action="product.created", entity_id=str(product.pk))
    assert created.actor == staff
    assert created.entity_type == "product"
    assert created.after == {
        "sku": "MUG-1",
        "name": "Camp mug",
        "price": "12.50",
        "is_active": True,
        "requires_shipping": True,
    }
    restocked = AuditEvent.objects.get(action="inventory.restocked", entity_id=str(product.pk))
    assert restocked.actor == staff
    assert restocked.entity_type == "inventory"
    assert restocked.before == {"available": 0, "reserved": 0, "received": 0}
    assert restocked.after == {
        "available": 7,
        "reserved": 0,
        "received": 7,
        "reason": "initial stock",
    }


def test_create_product_without_stock_has_an_empty_inventory_and_no_restock(staff):
    product = create_product(sku="X-1", name="Thing", price=Decimal("1.00"), actor=staff)
    assert counters(product) == (0, 0, 0)
    assert not AuditEvent.objects.filter(action="inventory.restocked").exists()
    assert AuditEvent.objects.filter(action="product.created").count() == 1


def test_create_product_makes_a_unique_slug(staff):
    first = create_product(sku="TEE-1", name="Tee shirt", price=Decimal("5"), actor=staff)
    second = create_product(sku="TEE-2", name="Tee shirt", price=Decimal("5"), actor=staff)
    assert (first.slug, second.slug) == ("tee-shirt", "tee-shirt-tee-2")


def test_create_product_slug_is_unique_even_when_the_fallback_is_taken(staff):
    create_product(sku="A", name="Tee", price=Decimal("5"), actor=staff)
    create_product(sku="C", name="Tee X", price=Decimal("5"), actor=staff)

    third = create_product(sku="X", name="Tee", price=Decimal("5"), actor=staff)

    assert Product.objects.filter(slug=third.slug).count() == 1


def test_create_product_validates_and_rolls_back(staff):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        create_product(sku="NEG-1", name="Negative", price=Decimal("-1.00"), actor=staff)
    with pytest.raises(InvalidCart):
        create_product(
            sku="NEG-2", name="Bad stock", price=Decimal("1.00"), actor=staff, initial_stock=-3
        )
    assert not Product.objects.filter(sku__in=["NEG-1", "NEG-2"]).exists()
    assert AuditEvent.objects.count() == events


def test_update_product_is_audited(staff):
    product = create_product(sku="LMP-1", name="Lamp", price=Decimal("149.99"), actor=staff)

    updated = update_product(product=product, actor=staff, price=Decimal("129.00"), is_active=False)

    assert (updated.price, updated.is_active) == (Decimal("129.00"), False)
    stored = Product.objects.get(pk=product.pk)
    assert (stored.price, stored.is_active, stored.name) == (Decimal("129.00"), False, "Lamp")
    event = AuditEvent.objects.get(action="product.updated")
    assert event.actor == staff
    assert event.entity_id == str(product.pk)
    same = {"sku": "LMP-1", "name": "Lamp", "requires_shipping": True}
    assert event.before == {**same, "price": "149.99", "is_active": True}
    assert event.after == {**same, "price": "129.00", "is_active": False}


@pytest.mark.parametrize("changes", [{"sku": "NEW"}, {"slug": "new"}, {"price": 1, "colour": 2}])
def test_update_product_refuses_unknown_fields(staff, changes):
    product = create_product(sku="LMP-1", name="Lamp", price=Decimal("149.99"), actor=staff)
    events = AuditEvent.objects.count()

    with pytest.raises(ValueError, match="Not editable"):
        update_product(product=product, actor=staff, **changes)

    stored = Product.objects.get(pk=product.pk)
    assert (stored.sku, stored.slug, stored.price) == ("LMP-1", "lamp", Decimal("149.99"))
    assert AuditEvent.objects.count() == events


def test_update_product_validates(staff):
    product = create_product(sku="LMP-1", name="Lamp", price=Decimal("149.99"), actor=staff)
    with pytest.raises(ValidationError):
        update_product(product=product, actor=staff, price=Decimal("-5.00"))
    assert Product.objects.get(pk=product.pk).price == Decimal("149.99")
    assert not AuditEvent.objects.filter(action="product.updated").exists()
