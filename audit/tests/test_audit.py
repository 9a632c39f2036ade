"""The audit log: append-only in the database, one event per change, tagged with the request."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse

from audit import context
from audit.models import AuditEvent
from audit.services import Change, record, record_many
from orders import services
from orders.models import Order
from orders.tests.factories import make_due, make_order
from shop import inventory
from shop.models import Inventory
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

S = Order.Status

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


@pytest.fixture
def customer():
    return UserFactory()


@pytest.fixture
def event(staff):
    record(action="test.recorded", entity_type="thing", entity_id=1, actor=staff, after={"x": 1})
    return AuditEvent.objects.latest("id")


# --- the append-only trigger -------------------------------------------------------------------


def _execute(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_update_is_rejected(event):
    with pytest.raises(DatabaseError, match="append-only: UPDATE"), transaction.atomic():
        _execute("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.recorded"


def test_orm_update_is_rejected(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(after={"x": 2})
    assert AuditEvent.objects.get(pk=event.pk).after == {"x": 1}


def test_raw_delete_is_rejected(event):
    with pytest.raises(DatabaseError, match="append-only: DELETE"), transaction.atomic():
        _execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_orm_delete_is_rejected(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_truncate_is_rejected_unless_the_session_allows_it(event):
    # Fire the deferred FK checks of the insert above now, or PostgreSQL refuses the
    # TRUNCATE for "pending trigger events" before the audit trigger gets a say.
    _execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE"), transaction.atomic():
        _execute("SET LOCAL audit.allow_truncate = 'off'")
        _execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_truncate_is_rejected_on_an_empty_table_too():
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE"), transaction.atomic():
        _execute("SET LOCAL audit.allow_truncate = 'off'")
        _execute("TRUNCATE audit_auditevent")


def test_inserts_are_allowed(staff):
    before = AuditEvent.objects.count()
    record(action="test.one", entity_type="thing", entity_id="a", actor=staff)
    record(action="test.two", entity_type="thing", entity_id="b", actor=None)
    assert AuditEvent.objects.count() == before + 2


def test_an_actor_in_the_log_cannot_be_deleted(event, staff):
    with pytest.raises(ProtectedError):
        staff.delete()
    assert AuditEvent.objects.get(pk=event.pk).actor == staff


# --- record() ----------------------------------------------------------------------------------


def test_record_stores_the_change(staff):
    record(
        action="test.changed",
        entity_type="thing",
        entity_id=42,
        actor=staff,
        before={"a": 1},
        after={"a": 2},
    )
    stored = AuditEvent.objects.latest("id")
    assert (stored.action, stored.entity_type, stored.entity_id) == ("test.changed", "thing", "42")
    assert (stored.before, stored.after, stored.actor) == ({"a": 1}, {"a": 2}, staff)
    assert stored.request_id == ""
    assert stored.occurred_at is not None
    assert str(stored) == "test.changed thing:42"


def test_record_many_writes_every_change_in_order_past_one_statements_worth(staff):
    changes = [Change("test.bulk", "thing", n, {"n": n}, {"n": n + 1}) for n in range(300)]
    record_many(changes=changes, actor=staff)
    stored = AuditEvent.objects.filter(action="test.bulk").order_by("id")
    assert [(e.entity_id, e.before, e.after, e.actor_id) for e in stored] == [
        (str(n), {"n": n}, {"n": n + 1}, staff.pk) for n in range(300)
    ]


@pytest.mark.parametrize("actor", [None, AnonymousUser()])
def test_record_without_a_user_is_the_system(actor):
    record(action="test.system", entity_type="thing", entity_id=1, actor=actor)
    assert AuditEvent.objects.latest("id").actor is None


def test_record_picks_up_the_current_request_id():
    token = context.request_id.set("req-abc")
    try:
        record(action="test.req", entity_type="thing", entity_id=1)
    finally:
        context.request_id.reset(token)
    assert AuditEvent.objects.latest("id").request_id == "req-abc"


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
    services.fulfil_order(order=order, actor=actor)


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


# name, starting status, service call, actor, extra "after" keys, stock movements
TRANSITIONS = [
    ("start_payment", S.CREATED, _start_payment, _system, {}, []),
    ("mark_paid", S.PAYMENT_PENDING, _mark_paid, _system, {}, ["inventory.committed"]),
    ("fulfil", S.PAID, _fulfil, _staff, {}, []),
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

# What each movement does to (available, reserved, received) of a line of quantity q.
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
    with pytest.raises(Exception, match="not possible"):
        services.fulfil_order(order=order, actor=staff)
    assert not events_since(since).exists()


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


# movement, action, expected after (available, reserved, received) per product from (10, 3, 13)
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


# --- RequestIdMiddleware -----------------------------------------------------------------------


def test_valid_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123_x.y"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "abc-123_x.y"


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 65, "semi;colon", "ünïcode"])
def test_invalid_request_id_is_replaced_by_a_generated_one(client, incoming):
    headers = {"X-Request-ID": incoming} if incoming else {}
    response = client.get("/healthz", headers=headers)
    generated = response["X-Request-ID"]
    assert generated != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_request_id_with_a_trailing_newline_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc\n"})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_each_request_gets_its_own_generated_id(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


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


# --- the audit log admin: readable, never writable ---------------------------------------------


@pytest.fixture
def admin_client_(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_audit_admin_has_no_add(admin_client_):
    before = AuditEvent.objects.count()
    assert admin_client_.get(reverse("admin:audit_auditevent_add")).status_code == 403
    response = admin_client_.post(
        reverse("admin:audit_auditevent_add"), {"action": "forged", "entity_type": "x"}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.count() == before


def test_audit_admin_has_no_delete(admin_client_, event):
    url = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert admin_client_.get(url).status_code == 403
    assert admin_client_.post(url, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_admin_change_page_is_read_only(admin_client_, event):
    url = reverse("admin:audit_auditevent_change", args=[event.pk])
    page = admin_client_.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client_.post(url, {"action": "forged"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "test.recorded"


def test_audit_admin_changelist_has_no_delete_action(admin_client_, event):
    response = admin_client_.get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 200
    assert "delete_selected" not in response.context["cl"].model_admin.get_actions(
        response.wsgi_request
    )


def test_audit_admin_changelist_filters(admin_client_, customer):
    order = _paid_order(customer)
    url = reverse("admin:audit_auditevent_changelist")

    all_events = admin_client_.get(url)
    by_type = admin_client_.get(url, {"entity_type": "order"})
    by_action = admin_client_.get(url, {"action": "order.mark_paid"})
    by_search = admin_client_.get(url, {"q": str(order.pk)})

    assert all_events.status_code == by_type.status_code == by_action.status_code == 200
    assert by_search.status_code == 200
    assert all_events.context["cl"].result_count == AuditEvent.objects.count()
    assert {e.entity_type for e in by_type.context["cl"].result_list} == {"order"}
    assert by_type.context["cl"].result_count == 3  # created, start_payment, mark_paid
    (paid,) = by_action.context["cl"].result_list
    assert paid.entity_id == str(order.pk)
    assert {e.entity_id for e in by_search.context["cl"].result_list} == {str(order.pk)}
