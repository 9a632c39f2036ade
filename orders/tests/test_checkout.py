"""place_order: the atomic checkout."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from core.exceptions import ShopError
from orders.checkout import MAX_LINES, place_order
from orders.exceptions import IdempotencyConflict
from orders.models import Order, OrderItem
from shop.exceptions import InsufficientStock, InvalidCart
from shop.models import Inventory, Product
from shop.services import update_product
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def stock(product) -> tuple[int, int]:
    inv = Inventory.objects.get(product=product)
    return inv.available, inv.reserved


def db_state():
    """Everything checkout may write, to compare before and after a failure."""
    return {
        "orders": Order.objects.count(),
        "items": OrderItem.objects.count(),
        "events": AuditEvent.objects.count(),
        "inventory": list(
            Inventory.objects.order_by("product_id").values_list(
                "product_id", "available", "reserved", "received", "updated_at"
            )
        ),
    }


@pytest.fixture
def customer():
    return UserFactory()


# --- exceptions --------------------------------------------------------------------------


def test_checkout_errors_are_shop_errors_with_stable_codes():
    codes = {exc.code for exc in (InvalidCart, InsufficientStock, IdempotencyConflict)}
    assert codes == {"invalid_cart", "insufficient_stock", "idempotency_conflict"}
    for exc in (InvalidCart, InsufficientStock, IdempotencyConflict):
        assert issubclass(exc, ShopError)


# --- the happy path ------------------------------------------------------------------------


def test_totals_are_exact_decimals(customer):
    a = ProductFactory(price=Decimal("19.99"), stock=10)
    b = ProductFactory(price=Decimal("0.10"), stock=10)
    c = ProductFactory(price=Decimal("1234.56"), stock=10)

    order = place_order(user=customer, lines=[(a.pk, 3), (b.pk, 7), (c.pk, 1)])

    assert order.subtotal == Decimal("1295.23")  # 59.97 + 0.70 + 1234.56
    assert order.total == Decimal("1295.23")
    assert order.currency == "usd"
    assert order.status == Order.Status.CREATED
    assert order.user == customer
    assert order.replayed is False
    stored = Order.objects.get(pk=order.pk)
    assert stored.total == Decimal("1295.23")
    assert isinstance(stored.total, Decimal)
    line_totals = dict(stored.items.values_list("product_id", "line_total"))
    assert line_totals == {a.pk: Decimal("59.97"), b.pk: Decimal("0.70"), c.pk: Decimal("1234.56")}


def test_items_snapshot_sku_name_and_price(customer):
    product = ProductFactory(sku="MUG-1", name="Camp mug", price=Decimal("12.50"), stock=5)

    order = place_order(user=customer, lines=[(product.pk, 2)])

    (item,) = order.items.all()
    assert (item.product_id, item.sku, item.name) == (product.pk, "MUG-1", "Camp mug")
    assert (item.unit_price, item.quantity, item.line_total) == (
        Decimal("12.50"),
        2,
        Decimal("25.00"),
    )


def test_later_price_and_name_changes_leave_the_order_unchanged(customer):
    product = ProductFactory(name="Camp mug", price=Decimal("12.50"), stock=5)
    order = place_order(user=customer, lines=[(product.pk, 2)])

    update_product(
        product=product, actor=StaffFactory(), price=Decimal("99.00"), name="Renamed mug"
    )

    order = Order.objects.get(pk=order.pk)
    item = order.items.get()
    assert Product.objects.get(pk=product.pk).price == Decimal("99.00")
    assert (item.name, item.unit_price, item.line_total) == (
        "Camp mug",
        Decimal("12.50"),
        Decimal("25.00"),
    )
    assert order.total == Decimal("25.00")


def test_stock_is_reserved(customer):
    a = ProductFactory(stock=10)
    b = ProductFactory(stock=4)
    untouched = ProductFactory(stock=7)

    place_order(user=customer, lines=[(b.pk, 4), (a.pk, 3)])

    assert stock(a) == (7, 3)
    assert stock(b) == (0, 4)
    assert stock(untouched) == (7, 0)
    # received does not move on a reservation
    assert Inventory.objects.get(product=a).received == 10


def test_order_and_audit_events_are_written(customer):
    a = ProductFactory(stock=10)
    b = ProductFactory(stock=10)

    order = place_order(user=customer, lines=[(a.pk, 1), (b.pk, 2)])

    created = AuditEvent.objects.get(action="order.created")
    assert created.entity_id == str(order.pk)
    assert created.actor == customer
    assert created.after == {"status": "created", "total": "30.00", "currency": "usd"}
    reserved = AuditEvent.objects.filter(action="inventory.reserved").order_by("entity_id")
    assert sorted(e.entity_id for e in reserved) == sorted([str(a.pk), str(b.pk)])
    assert all(e.actor == customer for e in reserved)


def test_expires_at_is_now_plus_reservation_ttl(customer, settings):
    settings.RESERVATION_TTL = timedelta(seconds=120)
    product = ProductFactory(stock=5)

    before = timezone.now()
    order = place_order(user=customer, lines=[(product.pk, 1)])
    after = timezone.now()

    assert before + timedelta(seconds=120) <= order.expires_at <= after + timedelta(seconds=120)
    stored = Order.objects.get(pk=order.pk).expires_at
    assert before + timedelta(seconds=120) <= stored <= after + timedelta(seconds=120)


def test_lines_may_be_any_iterable(customer):
    product = ProductFactory(stock=5)
    order = place_order(user=customer, lines=iter([(product.pk, 2)]))
    assert order.items.get().quantity == 2


def test_quantity_limits_are_inclusive(customer):
    one = ProductFactory(stock=1)
    thousand = ProductFactory(stock=1000)
    order = place_order(user=customer, lines=[(one.pk, 1), (thousand.pk, 1000)])
    assert dict(order.items.values_list("product_id", "quantity")) == {
        one.pk: 1,
        thousand.pk: 1000,
    }
    assert stock(thousand) == (0, 1000)


# --- idempotency ---------------------------------------------------------------------------


def test_same_key_same_lines_replays_the_same_order(customer):
    a = ProductFactory(stock=10)
    b = ProductFactory(stock=10)
    first = place_order(user=customer, lines=[(a.pk, 2), (b.pk, 1)], idempotency_key="key-1")
    state = db_state()

    # Same lines in another order: the same request.
    again = place_order(user=customer, lines=[(b.pk, 1), (a.pk, 2)], idempotency_key="key-1")

    assert again.pk == first.pk
    assert again.replayed is True
    assert first.replayed is False
    assert db_state() == state
    assert stock(a) == (8, 2)
    assert stock(b) == (9, 1)


def test_same_key_other_lines_conflicts_and_changes_nothing(customer):
    a = ProductFactory(stock=10)
    b = ProductFactory(stock=10)
    place_order(user=customer, lines=[(a.pk, 2)], idempotency_key="key-1")
    state = db_state()

    with pytest.raises(IdempotencyConflict) as excinfo:
        place_order(user=customer, lines=[(a.pk, 3)], idempotency_key="key-1")
    with pytest.raises(IdempotencyConflict):
        place_order(user=customer, lines=[(a.pk, 2), (b.pk, 1)], idempotency_key="key-1")

    assert excinfo.value.code == "idempotency_conflict"
    assert db_state() == state


def test_idempotency_keys_are_per_user(customer):
    other = UserFactory()
    product = ProductFactory(stock=10)

    mine = place_order(user=customer, lines=[(product.pk, 1)], idempotency_key="shared")
    theirs = place_order(user=other, lines=[(product.pk, 2)], idempotency_key="shared")

    assert mine.pk != theirs.pk
    assert (mine.user, theirs.user) == (customer, other)
    assert theirs.replayed is False
    assert stock(product) == (7, 3)


def test_orders_without_a_key_are_never_replayed(customer):
    product = ProductFactory(stock=10)
    first = place_order(user=customer, lines=[(product.pk, 1)])
    second = place_order(user=customer, lines=[(product.pk, 1)])
    assert first.pk != second.pk
    assert first.idempotency_key is None
    assert second.idempotency_key is None
    assert stock(product) == (8, 2)


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_idempotency_key_length_is_checked(customer, key):
    product = ProductFactory(stock=10)
    state = db_state()
    with pytest.raises(InvalidCart):
        place_order(user=customer, lines=[(product.pk, 1)], idempotency_key=key)
    assert db_state() == state


def test_longest_idempotency_key_is_accepted(customer):
    product = ProductFactory(stock=10)
    order = place_order(user=customer, lines=[(product.pk, 1)], idempotency_key="k" * 255)
    assert Order.objects.get(pk=order.pk).idempotency_key == "k" * 255


# --- failures roll back everything ----------------------------------------------------------


@pytest.fixture
def two_products():
    return ProductFactory(stock=10), ProductFactory(stock=10)


def _bad_lines(case, a, b):
    inactive = ProductFactory(stock=10, is_active=False)
    return {
        "empty": [],
        "unknown product": [(a.pk, 1), (b.pk + inactive.pk + 1000, 1)],
        "inactive product": [(a.pk, 1), (inactive.pk, 1)],
        "duplicate product": [(a.pk, 1), (b.pk, 1), (a.pk, 2)],
        "quantity 0": [(a.pk, 1), (b.pk, 0)],
        "negative quantity": [(a.pk, -1)],
        "quantity 1001": [(a.pk, 1), (b.pk, 1001)],
        "float quantity": [(a.pk, 1.0)],
        "string quantity": [(a.pk, "2")],
        "decimal quantity": [(a.pk, Decimal(2))],
        "bool quantity": [(a.pk, True)],
        "string product id": [(str(a.pk), 1)],
        "line without quantity": [(a.pk,)],
        "too many lines": [(i, 1) for i in range(1, MAX_LINES + 2)],
    }[case]


@pytest.mark.parametrize(
    "case",
    [
        "empty",
        "unknown product",
        "inactive product",
        "duplicate product",
        "quantity 0",
        "negative quantity",
        "quantity 1001",
        "float quantity",
        "string quantity",
        "decimal quantity",
        "bool quantity",
        "string product id",
        "line without quantity",
        "too many lines",
    ],
)
def test_invalid_cart_rolls_back_everything(customer, two_products, case):
    a, b = two_products
    lines = _bad_lines(case, a, b)
    state = db_state()

    with pytest.raises(InvalidCart) as excinfo:
        place_order(user=customer, lines=lines, idempotency_key=f"key-{case}")

    assert excinfo.value.code == "invalid_cart"
    assert excinfo.value.detail
    assert db_state() == state
    # A failed attempt does not burn the idempotency key.
    order = place_order(user=customer, lines=[(a.pk, 1)], idempotency_key=f"key-{case}")
    assert order.replayed is False


def test_product_in_another_currency_is_rejected(customer):
    a = ProductFactory(stock=10)
    foreign = ProductFactory(stock=10, currency="eur")
    state = db_state()
    with pytest.raises(InvalidCart, match="not sold in usd"):
        place_order(user=customer, lines=[(a.pk, 1), (foreign.pk, 1)])
    assert db_state() == state


def test_product_without_inventory_row_is_rejected(customer):
    a = ProductFactory(stock=10)
    bare = Product.objects.create(
        sku="BARE",
        name="Bare",
        slug="bare",
        price=Decimal("1.00"),
        requires_shipping=False,
    )
    state = db_state()
    with pytest.raises(InvalidCart):
        place_order(user=customer, lines=[(a.pk, 1), (bare.pk, 1)])
    assert db_state() == state


def test_insufficient_stock_on_the_second_line_rolls_back_the_first(customer):
    first = ProductFactory(stock=10)
    second = ProductFactory(stock=3)
    assert first.pk < second.pk
    state = db_state()

    with pytest.raises(InsufficientStock) as excinfo:
        place_order(user=customer, lines=[(first.pk, 2), (second.pk, 5)], idempotency_key="k")

    exc = excinfo.value
    assert (exc.product_id, exc.requested, exc.available) == (second.pk, 5, 3)
    assert exc.code == "insufficient_stock"
    assert second.name in exc.detail
    assert db_state() == state
    assert stock(first) == (10, 0)
    assert stock(second) == (3, 0)


def test_insufficient_stock_counts_stock_already_reserved(customer):
    product = ProductFactory(stock=5)
    place_order(user=UserFactory(), lines=[(product.pk, 4)])
    state = db_state()

    with pytest.raises(InsufficientStock) as excinfo:
        place_order(user=customer, lines=[(product.pk, 2)])

    assert (excinfo.value.requested, excinfo.value.available) == (2, 1)
    assert db_state() == state


# --- queries -------------------------------------------------------------------------------


def _count_queries(user, n_lines):
    products = [ProductFactory(stock=10) for _ in range(n_lines)]
    lines = [(p.pk, 1) for p in products]
    with CaptureQueriesContext(connection) as ctx:
        order = place_order(user=user, lines=lines)
    assert order.items.count() == n_lines
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_number_of_lines(customer):
    one = _count_queries(customer, 1)
    five = _count_queries(customer, 5)
    ten = _count_queries(customer, 10)

    assert one == five == ten
    assert one <= 15  # lock, update, audit, order, items, order audit, savepoints


def test_checkout_locks_inventory_rows_in_one_ordered_query(customer):
    products = [ProductFactory(stock=10) for _ in range(3)]
    with CaptureQueriesContext(connection) as ctx:
        place_order(user=customer, lines=[(p.pk, 1) for p in reversed(products)])
    locks = [q["sql"] for q in ctx.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 1
    assert 'ORDER BY "shop_inventory"."product_id" ASC FOR UPDATE' in locks[0]
