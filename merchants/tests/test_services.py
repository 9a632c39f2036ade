"""Applying to sell and approval: one application per user, approval by staff holding
merchants.change_merchant only, both audited."""

import threading

import pytest

from audit.models import AuditEvent
from core.exceptions import NotPermitted
from core.tests.helpers import grant, make_user
from merchants import services
from merchants.exceptions import AlreadyApplied, InvalidMerchant
from merchants.models import Merchant
from merchants.selectors import approved_merchant_of, merchant_of


@pytest.mark.django_db
def test_a_user_applies_once_and_is_pending_until_approved():
    user = make_user()
    merchant = services.apply_for_merchant(user=user, display_name="  Ann's Pottery ")

    assert (merchant.display_name, merchant.status) == ("Ann's Pottery", "pending")
    assert merchant_of(user=user) == merchant
    assert approved_merchant_of(user=user) is None
    event = AuditEvent.objects.get(action="merchant.applied")
    assert (event.entity_type, event.entity_id, event.actor_id) == (
        "merchant",
        str(merchant.pk),
        user.pk,
    )
    assert event.after == {"display_name": "Ann's Pottery", "status": "pending"}

    with pytest.raises(AlreadyApplied):
        services.apply_for_merchant(user=user, display_name="Another name")
    assert Merchant.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_display_name_must_be_1_to_100_characters(name):
    with pytest.raises(InvalidMerchant):
        services.apply_for_merchant(user=make_user(), display_name=name)
    assert Merchant.objects.count() == 0


@pytest.mark.django_db
def test_staff_with_the_permission_approve_and_it_is_audited():
    merchant = services.apply_for_merchant(user=make_user(), display_name="Shop A")
    staff = grant(make_user(is_staff=True), "merchants.change_merchant")

    approved = services.approve_merchant(merchant=merchant, actor=staff)

    assert approved.status == "approved"
    assert approved.approved_by == staff
    assert approved_merchant_of(user=merchant.user) == approved
    event = AuditEvent.objects.get(action="merchant.approved")
    assert (event.actor_id, event.before, event.after) == (
        staff.pk,
        {"status": "pending"},
        {"status": "approved"},
    )
    # Again: nothing changes, nothing more is recorded.
    services.approve_merchant(merchant=merchant, actor=staff)
    assert AuditEvent.objects.filter(action="merchant.approved").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("is_staff", [False, True])
def test_approval_needs_staff_with_the_permission(is_staff):
    merchant = services.apply_for_merchant(user=make_user(), display_name="Shop B")
    with pytest.raises(NotPermitted):
        services.approve_merchant(merchant=merchant, actor=make_user(is_staff=is_staff))
    merchant.refresh_from_db()
    assert merchant.status == "pending"
    assert not AuditEvent.objects.filter(action="merchant.approved").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_applications_of_one_user_make_one_merchant():
    user = make_user()
    barrier = threading.Barrier(6)
    outcomes = []

    def apply(n):
        from django.db import connection

        try:
            barrier.wait()
            services.apply_for_merchant(user=user, display_name=f"Name {n}")
            outcomes.append("ok")
        except AlreadyApplied:
            outcomes.append("already_applied")
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already_applied"] * 5 + ["ok"]
    assert Merchant.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action="merchant.applied").count() == 1
