"""The order's admin page: fulfil with carrier and tracking number (orders.change_order),
and the link to the order's audit trail (audit.view_auditevent)."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from orders.models import Order
from orders.tests.factories import make_order
from shop.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db
S = Order.Status


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def fulfil_url(order):
    return reverse("admin:orders_order_transition", args=[order.pk, "fulfil"])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_paid_orders_page_has_the_fulfil_form(staff_client):
    order = make_order(status=S.PAID)

    page = staff_client.get(change_url(order)).content.decode()

    assert 'data-testid="fulfil-panel"' in page
    assert f'<form method="post" action="{fulfil_url(order)}">' in page
    assert 'name="carrier"' in page and 'name="tracking_number"' in page


def test_fulfil_with_carrier_and_tracking_number(staff_client, superuser):
    order = make_order(status=S.PAID)

    response = staff_client.post(
        fulfil_url(order), {"carrier": "DHL", "tracking_number": "JD0142"}, follow=True
    )

    assert response.redirect_chain == [(change_url(order), 302)]
    assert messages_of(response) == [f"Order {order.short_id}: marked fulfilled."]
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.carrier, stored.tracking_number) == (
        S.FULFILLED,
        "DHL",
        "JD0142",
    )
    page = response.content.decode()
    assert "JD0142" in page
    assert 'data-testid="fulfil-panel"' not in page  # fulfilled: nothing left to ship


def test_fulfil_with_too_long_a_tracking_number_changes_nothing(staff_client):
    order = make_order(status=S.PAID)

    response = staff_client.post(fulfil_url(order), {"tracking_number": "9" * 101}, follow=True)

    assert messages_of(response) == [
        f"Order {order.short_id}: Ensure this value has at most 100 characters (it has 101)."
    ]
    assert Order.objects.filter(pk=order.pk, status=S.PAID, tracking_number="").exists()


def test_view_only_staff_see_no_fulfil_form_and_cannot_fulfil(client):
    order = make_order(status=S.PAID)
    client.force_login(StaffFactory(permissions=["orders.view_order"]))

    page = client.get(change_url(order)).content.decode()
    response = client.post(fulfil_url(order), {"carrier": "DHL", "tracking_number": "JD0142"})

    assert 'data-testid="fulfil-panel"' not in page
    assert "Cancel order" not in page
    assert response.status_code == 302
    assert Order.objects.filter(pk=order.pk, status=S.PAID, tracking_number="").exists()
    assert not AuditEvent.objects.filter(action="order.fulfil").exists()


def test_the_page_links_to_the_orders_audit_trail(staff_client):
    order = make_order(status=S.PAID)
    response = staff_client.get(change_url(order))
    audit = f"{reverse('admin:audit_auditevent_changelist')}?entity_type=order&entity_id={order.pk}"

    assert f'<a href="{audit.replace("&", "&amp;")}" data-testid="audit-trail">' in (
        response.content.decode()
    )
    trail = staff_client.get(audit)
    assert trail.status_code == 200
    listed = {event.action for event in trail.context["cl"].result_list}
    assert listed == {"order.created", "order.start_payment", "order.mark_paid"}


def test_no_audit_link_for_staff_who_cannot_read_the_audit_log(client):
    order = make_order(status=S.PAID)
    client.force_login(StaffFactory(permissions=["orders.view_order"]))

    assert 'data-testid="audit-trail"' not in client.get(change_url(order)).content.decode()
