"""shop.services.register_customer: the one way customers sign up."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.actions import Action, Entity
from audit.models import AuditEvent
from shop.models import User
from shop.services import register_customer
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import UserFactory

PASSWORD = "a-long-passphrase"


def _registrations():
    return AuditEvent.objects.filter(action=Action.USER_REGISTERED, entity_type=Entity.USER)


@pytest.mark.django_db
def test_register_creates_a_customer_and_audits_it():
    user = register_customer(email="New@EXAMPLE.com", password=PASSWORD)

    assert user.email == "New@example.com"  # the domain is normalised
    assert user.check_password(PASSWORD)
    assert not user.is_staff
    event = _registrations().get()
    assert event.entity_id == str(user.pk)
    assert event.actor == user
    assert event.after == {"email": "New@example.com"}


@pytest.mark.django_db
def test_an_address_taken_in_other_letter_case_is_refused():
    UserFactory(email="ann@example.com")

    with pytest.raises(ValidationError) as caught:
        register_customer(email="ANN@example.com", password=PASSWORD)

    taken = ["A user with this email address already exists."]
    assert caught.value.message_dict == {"email": taken}
    assert User.objects.count() == 1
    assert not _registrations().exists()


@pytest.mark.django_db
def test_a_weak_password_is_refused_and_nothing_is_created():
    with pytest.raises(ValidationError) as caught:
        register_customer(email="weak@example.com", password="password")

    assert not hasattr(caught.value, "error_dict")  # the password's messages, not a field's
    assert "This password is too common." in caught.value.messages
    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_sign_ups_racing_for_one_address_in_different_letter_cases_make_one_account():
    # The check before the insert cannot see a rival's uncommitted row: the database's
    # unique Lower("email") decides (issue 13).
    emails = ["Race@example.com", "race@example.com", "RACE@example.com", "rAcE@example.com"]
    outcomes = run_concurrently(
        *[lambda email=email: register_customer(email=email, password=PASSWORD) for email in emails]
    )

    assert sorted(kind for kind, _ in outcomes) == ["error", "error", "error", "ok"]
    assert User.objects.filter(email__iexact="race@example.com").count() == 1
    assert _registrations().count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sign_ups_racing_for_one_address_make_one_account():
    outcomes = run_concurrently(
        *[lambda: register_customer(email="race@example.com", password=PASSWORD)] * 4
    )

    created = [value for kind, value in outcomes if kind == "ok"]
    refused = [value for kind, value in outcomes if kind == "error"]
    assert len(created) == 1
    assert len(refused) == 3
    assert all(isinstance(exc, ValidationError) and "email" in exc.message_dict for exc in refused)
    assert User.objects.filter(email="race@example.com").count() == 1
    assert _registrations().count() == 1


@pytest.mark.django_db
def test_the_page_and_the_api_sign_up_through_the_service(client):
    client.post(
        reverse("register"),
        {"email": "page@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    client.post(
        "/api/v1/auth/register",
        {"email": "api@example.com", "password": PASSWORD},
        content_type="application/json",
    )

    audited = set(_registrations().values_list("after__email", flat=True))
    assert audited == {"page@example.com", "api@example.com"}


@pytest.mark.django_db
def test_the_page_shows_an_address_taken_in_other_letter_case_on_the_email_field(client):
    UserFactory(email="ann@example.com")

    response = client.post(
        reverse("register"),
        {"email": "Ann@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "A user with this email address already exists."
    ]
    assert User.objects.count() == 1
