"""What orders write to the audit log: one event per transition and one per stock row it
moves, checkout's events, flagging, nothing for a refused transition, and the id of the
request on the events a staff member's request writes (audit.middleware.RequestIdMiddleware)."""

import re

import pytest
from django.urls import reverse

from audit import context
from audit.models import AuditEvent
from audit.services import record
from orders import services
from orders.models import Order
from orders.tests.factories import make_due, make_order
from shop.models import Inventory
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

S = Order.Status

pytestmark = pytest.mark.django_db


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_since(event_id: int):
    return AuditEvent.objects.filter(id__gt=event_id).order_by("id")


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def customer():
    return UserFactory()


# --- one event per transition ------------------------------------------------------------------


@pytest.fixture
def products():
    return ProductFactory(stock=10), ProductFactory(stock=10), ProductFactory(stock=10)


def _order(customer, products, status):
    a, b, _ = products
    return make_order(user=customer, lines=[(a.pk, 2), (b.pk, 1)], status=status)


def _staff(_customer):
    return StaffFactory()


def _owner(customer):
    return customer


def _system(_customer):
    return None


def _start_payment(order, actor):
    services.start_payment(order=order)


def _mark_paid(order, actor):
    services.mark_paid(order=order)


def _fulfil(order, actor):
    services.fulfil_order(order=order, actor=actor, carrier="DHL", tracking_number="JD0142")


def _cancel(order, actor):
    services.cancel_order(order=order, actor=actor)


def _expire(order, actor):
    assert services.expire_order(order=order) is True


def _fail(order, actor):
    services.fail_order(order=order, reason="gone")


def _refund(order, actor):
    services.refund_order(order=order, actor=actor)


def _refund_restock(order, actor):
    services.refund_order(order=order, actor=actor, restock=True)


def _recover(order, actor):
    assert services.recover_late_payment(order=order) is True


TRANSITIONS = [
    ("start_payment", S.CREATED, _start_payment, _system, {}, []),
    ("mark_paid", S.PAYMENT_PENDING, _mark_paid, _system, {}, ["inventory.committed"]),
    ("fulfil", S.PAID, _fulfil, _staff, {"carrier": "DHL", "tracking_number": "JD0142"}, []),
    ("cancel", S.CREATED, _cancel, _owner, {}, ["inventory.released"]),
    ("cancel", S.PAYMENT_PENDING, _cancel, _staff, {}, ["inventory.released"]),
    ("expire", S.CREATED, _expire, _system, {}, ["inventory.released"]),
    ("expire", S.PAYMENT_PENDING, _expire, _system, {}, ["inventory.released"]),
    ("fail", S.PAYMENT_PENDING, _fail, _system, {"reason": "gone"}, ["inventory.released"]),
    ("refund", S.PAID, _refund, _staff, {"restocked": False}, []),
    ("refund", S.FULFILLED, _refund_restock, _staff, {"restocked": True}, ["inventory.returned"]),
    (
        "recover_late_payment",
        S.EXPIRED,
        _recover,
        _system,
        {},
        ["inventory.reserved", "inventory.committed"],
    ),
]


TARGETS = {
    "start_payment": S.PAYMENT_PENDING,
    "mark_paid": S.PAID,
    "fulfil": S.FULFILLED,
    "cancel": S.CANCELLED,
    "expire": S.EXPIRED,
    "fail": S.FAILED,
    "refund": S.REFUNDED,
    "recover_late_payment": S.PAID,
}


MOVES = {
    "inventory.reserved": lambda q: (-q, q, 0),
    "inventory.committed": lambda q: (0, -q, 0),
    "inventory.released": lambda q: (q, -q, 0),
    "inventory.returned": lambda q: (q, 0, 0),
}


@pytest.mark.parametrize(
    ("name", "source", "call", "who", "extra", "movements"),
    TRANSITIONS,
    ids=[f"{t[0]}-from-{t[1]}" for t in TRANSITIONS],
)
def test_each_transition_writes_one_event_per_touched_entity(
    customer, products, name, source, call, who, extra, movements
):
    a, b, untouched = products
    order = _order(customer, products, source)
    if name == "expire":
        make_due(order)
    actor = who(customer)
    quantities = {a.pk: 2, b.pk: 1}
    stock_before = {pid: Inventory.objects.get(pk=pid).snapshot() for pid in quantities}
    since = last_event_id()

    call(order, actor)

    order_events = list(events_since(since).filter(entity_type="order"))
    assert len(order_events) == 1
    (event,) = order_events
    assert event.action == f"order.{name}"
    assert event.entity_id == str(order.pk)
    assert event.before == {"status": source}
    assert event.after == {"status": TARGETS[name], **extra}
    assert event.actor == actor
    assert Order.objects.get(pk=order.pk).status == TARGETS[name]

    stock_events = list(events_since(since).filter(entity_type="inventory"))
    assert sorted(e.action for e in stock_events) == sorted(movements * 2)
    assert str(untouched.pk) not in {e.entity_id for e in stock_events}
    for movement in movements:
        for pid, q in quantities.items():
            (ev,) = [e for e in stock_events if e.action == movement and e.entity_id == str(pid)]
            assert ev.actor == (actor if name in ("cancel", "refund") else None)
            assert ev.after["reason"].startswith(f"order {order.pk}")
            da, dr, dx = MOVES[movement](q)
            b4 = ev.before
            assert ev.after == {
                "available": b4["available"] + da,
                "reserved": b4["reserved"] + dr,
                "received": b4["received"] + dx,
                "reason": ev.after["reason"],
            }
    # The first movement of each row starts from the row as it was.
    for pid in quantities:
        first = next((e for e in stock_events if e.entity_id == str(pid)), None)
        if first is not None:
            assert first.before == stock_before[pid]


def test_checkout_writes_one_order_event_and_one_event_per_inventory_row(customer, products):
    a, b, _ = products
    since = last_event_id()

    order = make_order(user=customer, lines=[(a.pk, 2), (b.pk, 1)])

    events = list(events_since(since))
    assert [(e.entity_type, e.action) for e in events if e.entity_type == "order"] == [
        ("order", "order.created")
    ]
    stock_events = {e.entity_id: e for e in events if e.entity_type == "inventory"}
    assert set(stock_events) == {str(a.pk), str(b.pk)}
    assert stock_events[str(a.pk)].before == {"available": 10, "reserved": 0, "received": 10}
    assert stock_events[str(a.pk)].after == {
        "available": 8,
        "reserved": 2,
        "received": 10,
        "reason": f"order {order.pk}",
    }
    assert all(e.actor == customer for e in events)


def test_flag_for_review_writes_one_event_by_the_system(customer, products):
    order = _order(customer, products, S.PAID)
    since = last_event_id()

    services.flag_for_review(order=order, reason="amount mismatch")

    (event,) = events_since(since)
    assert (event.action, event.entity_id, event.actor) == ("order.flagged", str(order.pk), None)
    assert event.before == {"needs_review": False, "review_reason": ""}
    assert event.after == {"needs_review": True, "review_reason": "amount mismatch"}


def test_a_refused_transition_writes_nothing(customer, staff, products):
    order = _order(customer, products, S.CREATED)
    since = last_event_id()
    with pytest.raises(Exception, match="cannot be fulfilled: it is awaiting payment"):
        services.fulfil_order(order=order, actor=staff)
    assert not events_since(since).exists()


# --- the request id on events written during a request ----------------------------------------


def _paid_order(customer):
    product = ProductFactory(stock=5)
    return make_order(user=customer, lines=[(product.pk, 1)], status=S.PAID)


def test_events_written_during_a_request_store_its_id(client, customer):
    admin = StaffFactory(is_superuser=True)
    order = _paid_order(customer)
    client.force_login(admin)
    since = last_event_id()

    response = client.post(
        reverse("admin:orders_order_transition", args=[order.pk, "fulfil"]),
        headers={"X-Request-ID": "trace-42"},
    )

    assert response.status_code == 302
    assert response["X-Request-ID"] == "trace-42"
    (event,) = events_since(since)
    assert (event.action, event.request_id, event.actor) == ("order.fulfil", "trace-42", admin)
    # The id does not leak into work done after the request.
    assert context.request_id.get() == ""
    record(action="test.after", entity_type="thing", entity_id=1)
    assert AuditEvent.objects.latest("id").request_id == ""


def test_events_written_during_a_request_with_a_bad_id_store_the_generated_one(client, customer):
    admin = StaffFactory(is_superuser=True)
    order = _paid_order(customer)
    client.force_login(admin)
    since = last_event_id()

    response = client.post(
        reverse("admin:orders_order_transition", args=[order.pk, "fulfil"]),
        headers={"X-Request-ID": "bad id!"},
    )

    generated = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    (event,) = events_since(since)
    assert event.request_id == generated
