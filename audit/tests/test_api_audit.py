"""GET audit: staff only, filters, actor shown by email, flat query count.

The events are recorded with audit.services, shaped like those the apps above write for an
order's checkout, cancellation and expiry (their own tests prove what they write)."""

import uuid

import pytest
from rest_framework.test import APIClient

from audit.actions import Action, Entity
from audit.models import AuditEvent
from audit.services import Change, record, record_many
from core.tests.helpers import api, client_for, grant, make_user

pytestmark = pytest.mark.django_db

PRODUCT_ID = 1
STOCK = {"available": 10, "reserved": 0, "received": 10}
RESERVED = {"available": 9, "reserved": 1, "received": 10}


def record_order(*, user=None, status="created") -> uuid.UUID:
    """Record the events of an order for one unit placed by `user` (a new customer by default),
    then cancelled by them or expired by the system, in the order the services write them.
    Returns the order's id."""
    user = user if user is not None else make_user()
    order_id = uuid.uuid4()
    reason = {"reason": f"order {order_id}"}
    record_many(
        changes=[
            Change(
                Action.STOCK_RESERVED, Entity.INVENTORY, PRODUCT_ID, STOCK, {**RESERVED, **reason}
            ),
            Change(
                Action.ORDER_CREATED,
                Entity.ORDER,
                order_id,
                None,
                {"status": "created", "total": "10.00", "currency": "usd"},
            ),
        ],
        actor=user,
    )
    if status == "created":
        return order_id
    action, actor = {
        "cancelled": (Action.ORDER_CANCELLED, user),
        "expired": (Action.ORDER_EXPIRED, None),
    }[status]
    record(
        action=Action.STOCK_RELEASED,
        entity_type=Entity.INVENTORY,
        entity_id=PRODUCT_ID,
        actor=actor,
        before=RESERVED,
        after={**STOCK, **reason},
    )
    record(
        action=action,
        entity_type=Entity.ORDER,
        entity_id=order_id,
        actor=actor,
        before={"status": "created"},
        after={"status": status},
    )
    return order_id


def auditor():
    """Staff who may read the audit log (audit.view_auditevent)."""
    return grant(make_user(is_staff=True), "audit.view_auditevent")


def test_audit_is_for_staff_only():
    record_order()
    assert APIClient().get(api("audit")).status_code == 401
    for user in [make_user(), make_user(is_staff=True)]:
        response = client_for(user).get(api("audit"))
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_audit_lists_events_newest_first_with_filters():
    customer = make_user()
    order = record_order(user=customer, status="cancelled")
    staff = client_for(auditor())
    body = staff.get(api("audit")).json()
    assert body["count"] == AuditEvent.objects.count()
    first = body["results"][0]
    assert set(first) == {
        "id",
        "occurred_at",
        "actor",
        "action",
        "entity_type",
        "entity_id",
        "before",
        "after",
    }
    assert first["action"] == "order.cancel"
    assert first["actor"] == customer.email
    assert first["before"] == {"status": "created"}

    orders = staff.get(api(f"audit?entity_type=order&entity_id={order}")).json()["results"]
    assert [e["action"] for e in orders] == ["order.cancel", "order.created"]
    cancels = staff.get(api("audit?action=order.cancel")).json()
    assert cancels["count"] == 1
    assert staff.get(api("audit?action=nothing")).json()["count"] == 0


def test_system_events_have_no_actor():
    record_order(status="expired")
    staff = client_for(auditor())
    expired = staff.get(api("audit?action=order.expire")).json()["results"]
    assert len(expired) == 1
    assert expired[0]["actor"] is None


def test_audit_list_query_count_is_flat(django_assert_max_num_queries):
    staff = client_for(auditor())
    record_order()
    # The user, their own and their groups' permissions (StaffWithPermission), count, page.
    with django_assert_max_num_queries(5):
        small = staff.get(api("audit")).json()["count"]
    for _ in range(5):
        record_order(status="cancelled")
    with django_assert_max_num_queries(5):
        assert staff.get(api("audit")).json()["count"] > small
