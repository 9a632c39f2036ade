"""Guest accounts: created or reused by a guest checkout, refused for a full account's
address, completed into a full account (keeping their orders), never registered over."""

import pytest
from django.core.exceptions import ValidationError

from audit.actions import Action
from audit.models import AuditEvent
from orders.tests.factories import make_order
from shop.models import User
from shop.services import complete_guest_account, guest_account, register_customer
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase"


def _registrations():
    return AuditEvent.objects.filter(action=Action.USER_REGISTERED).order_by("pk")


def test_a_guest_account_is_created_without_a_password_and_audited():
    user = guest_account(email="Guest@EXAMPLE.com")

    assert (user.email, user.is_guest, user.has_usable_password()) == (
        "Guest@example.com",
        True,
        False,
    )
    event = _registrations().get()
    assert (event.entity_id, event.actor, event.after) == (
        str(user.pk),
        user,
        {"email": "Guest@example.com", "guest": True},
    )


def test_a_guest_account_is_reused_whatever_the_letter_case():
    first = guest_account(email="guest@example.com")

    again = guest_account(email="GUEST@example.com")

    assert again.pk == first.pk
    assert User.objects.count() == 1
    assert _registrations().count() == 1


def test_a_full_accounts_address_is_refused_and_nothing_is_created():
    UserFactory(email="ann@example.com")

    with pytest.raises(ValidationError) as caught:
        guest_account(email="Ann@example.com")

    assert caught.value.message_dict == {
        "email": ["An account uses this email: log in to check out."]
    }
    assert User.objects.count() == 1
    assert not _registrations().exists()


def test_completing_a_guest_account_keeps_its_orders_and_audits_it():
    user = guest_account(email="guest@example.com")
    orders = [make_order(user=user), make_order(user=user)]

    completed = complete_guest_account(user=user, password=PASSWORD)

    completed.refresh_from_db()
    assert (completed.is_guest, completed.check_password(PASSWORD)) == (False, True)
    assert set(completed.orders.values_list("pk", flat=True)) == {o.pk for o in orders}
    event = _registrations().last()
    assert (event.before, event.after) == (
        {"guest": True},
        {"email": "guest@example.com", "guest": False},
    )


def test_a_weak_password_completes_nothing():
    user = guest_account(email="guest@example.com")

    with pytest.raises(ValidationError) as caught:
        complete_guest_account(user=user, password="123")

    assert "This password is too short. It must contain at least 8 characters." in (
        caught.value.messages
    )
    user.refresh_from_db()
    assert (user.is_guest, user.has_usable_password()) == (True, False)


def test_a_full_account_is_not_completed_again():
    user = UserFactory()

    with pytest.raises(ValidationError) as caught:
        complete_guest_account(user=user, password=PASSWORD)

    assert caught.value.code == "not_guest"
    assert not user.check_password(PASSWORD)


def test_registering_a_guests_address_is_refused_with_where_to_go():
    guest_account(email="guest@example.com")

    with pytest.raises(ValidationError) as caught:
        register_customer(email="guest@example.com", password=PASSWORD)

    assert caught.value.message_dict == {
        "email": [
            "This email address was used for a guest checkout: open the link in your order "
            "email and create your account from the order page."
        ]
    }
    assert User.objects.get().is_guest


def test_a_guest_becomes_a_full_account_then_guest_checkout_is_refused():
    user = guest_account(email="guest@example.com")
    complete_guest_account(user=user, password=PASSWORD)

    with pytest.raises(ValidationError):
        guest_account(email="guest@example.com")
