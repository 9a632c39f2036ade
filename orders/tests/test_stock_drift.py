"""Stock drift: the nightly check reports it; only STOCK_DRIFT_AUTOFIX corrects `reserved`."""

import logging
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from orders import services
from orders.selectors import stock_discrepancies
from orders.tests.factories import make_order
from shop import inventory
from shop.exceptions import InsufficientStock, InvalidCart
from shop.models import Inventory
from shop.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

RESERVED_DRIFT = "reserved != quantities of pending orders"


def stock(product) -> tuple[int, int, int]:
    inv = Inventory.objects.get(product=product)
    return inv.available, inv.received, inv.reserved


def drift_events(product):
    return AuditEvent.objects.filter(action="inventory.drift_detected", entity_id=str(product.pk))


@pytest.fixture
def drifted():
    """A product with 2 units reserved by a pending order but 5 recorded as reserved
    (a release that never happened): conservation holds, `reserved` is wrong."""
    product = ProductFactory(stock=10)
    make_order(lines=[(product.pk, 2)])
    Inventory.objects.filter(product=product).update(available=5, reserved=5)
    return product


def test_no_drift_reports_nothing():
    product = ProductFactory(stock=10)
    make_order(lines=[(product.pk, 2)])
    assert services.check_stock_drift() == []
    assert not drift_events(product).exists()


def test_drift_is_logged_and_audited_but_not_changed_by_default(drifted, settings, caplog):
    settings.STOCK_DRIFT_AUTOFIX = False
    with caplog.at_level(logging.WARNING, logger="orders.services"):
        (problem,) = services.check_stock_drift()
    assert problem["product_id"] == drifted.pk
    assert problem["broken"] == [RESERVED_DRIFT]
    assert (problem["reserved"], problem["pending"], problem["corrected"]) == (5, 2, False)
    assert stock(drifted) == (5, 10, 5)
    (event,) = drift_events(drifted)
    assert event.after["reserved"] == 5 and event.after["pending"] == 2
    assert event.after["autofix"] is False
    assert f"Stock drift on product {drifted.pk}" in caplog.text


def test_autofix_recomputes_reserved_and_keeps_conservation(drifted, settings):
    settings.STOCK_DRIFT_AUTOFIX = True
    (problem,) = services.check_stock_drift()
    assert problem["corrected"] is True
    assert stock(drifted) == (8, 10, 2)
    assert stock_discrepancies() == []
    assert drift_events(drifted).count() == 1
    (fix,) = AuditEvent.objects.filter(
        action="inventory.reserved_corrected", entity_id=str(drifted.pk)
    )
    assert (fix.before["reserved"], fix.after["reserved"], fix.after["available"]) == (5, 2, 8)
    # The next night finds nothing.
    assert services.check_stock_drift() == []


def test_autofix_leaves_a_broken_conservation_to_staff(settings):
    settings.STOCK_DRIFT_AUTOFIX = True
    product = ProductFactory(stock=10)
    make_order(lines=[(product.pk, 2)])
    Inventory.objects.filter(product=product).update(reserved=4)  # units from nowhere
    (problem,) = services.check_stock_drift()
    assert set(problem["broken"]) == {RESERVED_DRIFT, "received != available + reserved + sold"}
    assert problem["corrected"] is False
    assert stock(product) == (8, 10, 4)


def test_correct_reserved_refuses_to_take_available_below_zero():
    product = ProductFactory(stock=1)
    with pytest.raises(InsufficientStock):
        inventory.correct_reserved(product_id=product.pk, reserved=3, reason="test")
    with pytest.raises(InvalidCart):
        inventory.correct_reserved(product_id=product.pk, reserved=-1, reason="test")
    assert stock(product) == (1, 1, 0)


def test_the_command_reports_and_fails_until_fixed(drifted):
    out = StringIO()
    with pytest.raises(CommandError, match="1 product"):
        call_command("check_stock_drift", stdout=out)
    assert f"product {drifted.pk}: {RESERVED_DRIFT} (reported)" in out.getvalue()
    assert stock(drifted) == (5, 10, 5)

    out = StringIO()
    call_command("check_stock_drift", "--fix", stdout=out)
    assert f"product {drifted.pk}: {RESERVED_DRIFT} (corrected)" in out.getvalue()
    assert stock(drifted) == (8, 10, 2)
