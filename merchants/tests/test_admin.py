"""Merchants in the admin: the approve action goes through the service (audited) and is
offered only to staff holding merchants.change_merchant."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.tests.helpers import grant, make_user
from merchants.models import Merchant

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:merchants_merchant_changelist")


def _approve(client, *merchants):
    return client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": [m.pk for m in merchants]},
        follow=True,
    )


def test_staff_with_the_permission_approve_selected_merchants(client):
    first = Merchant.objects.create(user=make_user(), display_name="First")
    second = Merchant.objects.create(user=make_user(), display_name="Second")
    staff = grant(make_user(is_staff=True), "merchants.view_merchant", "merchants.change_merchant")
    client.force_login(staff)

    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert b"First" in page.content and b"Approve selected merchants" in page.content

    response = _approve(client, first, second)

    assert response.status_code == 200
    assert b"First: approved." in response.content
    assert set(Merchant.objects.values_list("status", flat=True)) == {"approved"}
    events = AuditEvent.objects.filter(action="merchant.approved")
    approved = sorted(events.values_list("entity_id", flat=True))
    assert approved == sorted([str(first.pk), str(second.pk)])
    assert set(events.values_list("actor_id", flat=True)) == {staff.pk}


def test_staff_who_may_only_view_cannot_approve(client):
    merchant = Merchant.objects.create(user=make_user(), display_name="Pending")
    client.force_login(grant(make_user(is_staff=True), "merchants.view_merchant"))

    assert b"Approve selected merchants" not in client.get(CHANGELIST).content
    _approve(client, merchant)

    merchant.refresh_from_db()
    assert merchant.status == "pending"
    assert not AuditEvent.objects.filter(action="merchant.approved").exists()
    # Applications are the users' own: nobody adds or edits them here.
    assert client.get(reverse("admin:merchants_merchant_add")).status_code == 403
