"""What stock movements (shop.inventory) write to the audit log: one event per row moved,
with the counters before and after, the actor and the reason."""

import pytest

from audit.models import AuditEvent
from shop import inventory
from shop.models import Inventory
from shop.tests.factories import ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_since(event_id: int):
    return AuditEvent.objects.filter(id__gt=event_id).order_by("id")


def snapshot(product) -> dict:
    return Inventory.objects.get(product=product).snapshot()


@pytest.fixture
def staff():
    return StaffFactory()


# --- one event per stock movement --------------------------------------------------------------


def _reserve(a, b, actor):
    inventory.reserve(quantities={a.pk: 3, b.pk: 1}, actor=actor, reason="r")


def _commit(a, b, actor):
    inventory.commit(quantities={a.pk: 2, b.pk: 1}, actor=actor, reason="r")


def _release(a, b, actor):
    inventory.release(quantities={a.pk: 2, b.pk: 1}, actor=actor, reason="r")


def _restock(a, b, actor):
    inventory.restock(product_id=a.pk, quantity=5, actor=actor, reason="r")


def _adjust(a, b, actor):
    inventory.adjust(product_id=a.pk, delta=-4, actor=actor, reason="r")


def _return(a, b, actor):
    inventory.return_to_stock(quantities={a.pk: 2, b.pk: 1}, actor=actor, reason="r")


MOVEMENTS = [
    (_reserve, "inventory.reserved", {"a": (7, 6, 13), "b": (9, 4, 13)}),
    (_commit, "inventory.committed", {"a": (10, 1, 13), "b": (10, 2, 13)}),
    (_release, "inventory.released", {"a": (12, 1, 13), "b": (11, 2, 13)}),
    (_restock, "inventory.restocked", {"a": (15, 3, 18)}),
    (_adjust, "inventory.adjusted", {"a": (6, 3, 9)}),
    (_return, "inventory.returned", {"a": (12, 3, 13), "b": (11, 3, 13)}),
]


@pytest.mark.parametrize("with_actor", [True, False], ids=["staff", "system"])
@pytest.mark.parametrize(
    ("move", "action", "expected"), MOVEMENTS, ids=[m[1].split(".")[1] for m in MOVEMENTS]
)
def test_each_stock_movement_writes_one_event_per_row(staff, move, action, expected, with_actor):
    products = {"a": ProductFactory(stock=0), "b": ProductFactory(stock=0), "c": ProductFactory()}
    for product in products.values():
        Inventory.objects.filter(product=product).update(available=10, reserved=3, received=13)
    actor = staff if with_actor else None
    since = last_event_id()

    move(products["a"], products["b"], actor)

    events = list(events_since(since))
    assert len(events) == len(expected)
    for key, (available, reserved, received) in expected.items():
        (event,) = [e for e in events if e.entity_id == str(products[key].pk)]
        assert (event.action, event.entity_type, event.actor) == (action, "inventory", actor)
        assert event.before == {"available": 10, "reserved": 3, "received": 13}
        after = {"available": available, "reserved": reserved, "received": received}
        assert event.after == {**after, "reason": "r"}
        assert snapshot(products[key]) == after
    assert snapshot(products["c"]) == {"available": 10, "reserved": 3, "received": 13}


def test_movement_without_reason_stores_only_the_counters():
    product = ProductFactory(stock=4)
    since = last_event_id()
    inventory.reserve(quantities={product.pk: 1})
    (event,) = events_since(since)
    assert event.after == {"available": 3, "reserved": 1, "received": 4}
