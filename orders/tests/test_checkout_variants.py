"""Checkout sells variants exactly as it sells standalone products: the variant is the
stock-keeping unit, so the same locks and checks hold; a parent is never sold."""

from decimal import Decimal

import pytest

from orders.checkout import place_order
from orders.models import Order
from orders.selectors import stock_discrepancies
from shop.exceptions import InsufficientStock, InvalidCart
from shop.models import Inventory, Product
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import StaffFactory, UserFactory, make_tee


@pytest.mark.django_db
def test_checkout_snapshots_the_variant_and_refuses_its_parent():
    tee = make_tee(actor=StaffFactory())
    customer = UserFactory()
    red = Product.objects.get(sku="TEE-M-RED")

    order = place_order(user=customer, lines=[(red.pk, 2)])

    (item,) = order.items.all()
    assert (item.product_id, item.sku, item.name, item.unit_price) == (
        red.pk,
        "TEE-M-RED",
        "Cotton tee (M / Red)",
        Decimal("22.00"),
    )
    assert Inventory.objects.get(product=red).reserved == 2
    with pytest.raises(InvalidCart) as caught:
        place_order(user=customer, lines=[(tee.pk, 1)])
    assert caught.value.detail == f"Product {tee.pk} does not exist or is not for sale."
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_buyers_race_for_a_variants_three_units_and_three_win():
    make_tee(actor=StaffFactory(), stock={"TEE-M-BLU": 3})
    blue, red = Product.objects.get(sku="TEE-M-BLU"), Product.objects.get(sku="TEE-M-RED")
    buyers = [UserFactory() for _ in range(10)]

    outcomes = run_concurrently(
        *[lambda u=u: place_order(user=u, lines=[(red.pk, 1), (blue.pk, 1)]) for u in buyers]
    )

    # Red has 2, blue 3: exactly two orders take one of each, the rest take nothing.
    assert sum(1 for kind, _ in outcomes if kind == "ok") == 2
    errors = [value for kind, value in outcomes if kind == "error"]
    assert len(errors) == 8 and all(isinstance(e, InsufficientStock) for e in errors), errors
    stock = {i.product_id: (i.available, i.reserved) for i in Inventory.objects.all()}
    assert (stock[red.pk], stock[blue.pk]) == ((0, 2), (1, 2))
    assert stock_discrepancies() == []
