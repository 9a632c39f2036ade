"""The audit log: append-only in the database, record() and record_many(), tagged with the
request, readable (never writable) in the admin.

That each change writes its events is proven where the change is made:
orders/tests/test_audit_trail.py and shop/tests/test_inventory_audit.py."""

import re
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse

from audit import context
from audit.actions import Action, Entity
from audit.models import AuditEvent
from audit.services import Change, record, record_many
from core.tests.helpers import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return make_user(is_staff=True)


@pytest.fixture
def customer():
    return make_user()


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


# --- the audit log admin: readable, never writable ---------------------------------------------


@pytest.fixture
def admin_client_(client):
    client.force_login(make_user(is_staff=True, is_superuser=True))
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


def _paid_order(customer) -> uuid.UUID:
    """Record the events of an order for one unit, paid, shaped like those orders writes:
    checkout (stock reserved, order created), start_payment, mark_paid (stock committed).
    Returns the order's id."""
    order_id = uuid.uuid4()
    product_id = 1
    reason = {"reason": f"order {order_id}"}
    record(
        action=Action.STOCK_RESERVED,
        entity_type=Entity.INVENTORY,
        entity_id=product_id,
        actor=customer,
        before={"available": 5, "reserved": 0, "received": 5},
        after={"available": 4, "reserved": 1, "received": 5, **reason},
    )
    record(
        action=Action.ORDER_CREATED,
        entity_type=Entity.ORDER,
        entity_id=order_id,
        actor=customer,
        after={"status": "created", "total": "10.00", "currency": "usd"},
    )
    record(
        action=Action.ORDER_PAYMENT_STARTED,
        entity_type=Entity.ORDER,
        entity_id=order_id,
        before={"status": "created"},
        after={"status": "payment_pending"},
    )
    record(
        action=Action.STOCK_COMMITTED,
        entity_type=Entity.INVENTORY,
        entity_id=product_id,
        before={"available": 4, "reserved": 1, "received": 5},
        after={"available": 4, "reserved": 0, "received": 5, **reason},
    )
    record(
        action=Action.ORDER_PAID,
        entity_type=Entity.ORDER,
        entity_id=order_id,
        before={"status": "payment_pending"},
        after={"status": "paid"},
    )
    return order_id


def test_audit_admin_changelist_filters(admin_client_, customer):
    order_id = _paid_order(customer)
    url = reverse("admin:audit_auditevent_changelist")

    all_events = admin_client_.get(url)
    by_type = admin_client_.get(url, {"entity_type": "order"})
    by_action = admin_client_.get(url, {"action": "order.mark_paid"})
    by_search = admin_client_.get(url, {"q": str(order_id)})

    assert all_events.status_code == by_type.status_code == by_action.status_code == 200
    assert by_search.status_code == 200
    assert all_events.context["cl"].result_count == AuditEvent.objects.count()
    assert {e.entity_type for e in by_type.context["cl"].result_list} == {"order"}
    assert by_type.context["cl"].result_count == 3  # created, start_payment, mark_paid
    (paid,) = by_action.context["cl"].result_list
    assert paid.entity_id == str(order_id)
    assert {e.entity_id for e in by_search.context["cl"].result_list} == {str(order_id)}
