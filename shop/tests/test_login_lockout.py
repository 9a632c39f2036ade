"""The HTML login locks out brute force (django-axes, config/security.py)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
LOGIN = "/accounts/login/"


def attempt(client, email, password, ip="127.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def logged_in_as(client, user) -> bool:
    return str(client.session.get("_auth_user_id")) == str(user.pk)


def test_five_failures_from_one_address_lock_that_address_out_of_the_account(client):
    user = UserFactory(email="victim@example.com")
    for _ in range(4):
        response = attempt(client, user.email, "wrong-password")
        assert response.status_code == 200  # the form again, with its error
    # The fifth failure locks: the answer is the lockout page.
    assert attempt(client, user.email, "wrong-password").status_code == 429

    response = attempt(client, user.email, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not logged_in_as(client, user)


def test_the_account_still_opens_from_another_address(client):
    user = UserFactory(email="victim@example.com")
    for _ in range(5):
        attempt(client, user.email, "wrong-password", ip="203.0.113.7")
    assert attempt(client, user.email, PASSWORD, ip="203.0.113.7").status_code == 429

    response = attempt(client, user.email, PASSWORD, ip="198.51.100.20")

    assert response.status_code == 302
    assert logged_in_as(client, user)


def test_at_most_100_failures_per_account_per_hour_from_any_number_of_addresses(client):
    user = UserFactory(email="target@example.com")
    # A botnet: 4 guesses from each of 25 addresses stays under the per-address limit.
    for n in range(100):
        response = attempt(client, user.email, f"guess-{n}", ip=f"10.0.{n // 4}.{n % 4 + 1}")
        # The hundredth failure reaches the per-account limit and locks the account.
        assert response.status_code == (429 if n == 99 else 200), n

    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 100

    # The 101st try is refused, even with the right password from a new address.
    response = attempt(client, user.email, PASSWORD, ip="192.0.2.55")
    assert response.status_code == 429
    assert not logged_in_as(client, user)

    # An hour after the last failure, the account opens again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1, minutes=1))
    response = attempt(client, user.email, PASSWORD, ip="192.0.2.55")
    assert response.status_code == 302
    assert logged_in_as(client, user)


def test_the_email_case_does_not_give_an_attacker_more_tries(client):
    user = UserFactory(email="mixed@example.com")
    for email in ["Mixed@example.com", "MIXED@EXAMPLE.COM", "mixed@Example.com"] * 2:
        attempt(client, email, "wrong-password")
    assert attempt(client, user.email, PASSWORD).status_code == 429


def test_password_spraying_from_one_address_is_locked_out(client):
    users = UserFactory.create_batch(3)
    for n in range(100):
        attempt(client, f"nobody{n}@example.com", "wrong-password", ip="198.51.100.99")

    response = attempt(client, users[0].email, PASSWORD, ip="198.51.100.99")

    assert response.status_code == 429


def test_a_locked_out_client_cannot_get_an_api_token_either(client):
    user = UserFactory(email="api@example.com")
    for _ in range(5):
        attempt(client, user.email, "wrong-password")

    response = client.post(
        "/api/v1/auth/token",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 401
    assert "access" not in response.json()


def test_a_successful_login_clears_the_address_failures(client):
    user = UserFactory(email="forgetful@example.com")
    for _ in range(4):
        attempt(client, user.email, "wrong-password")
    assert attempt(client, user.email, PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    for _ in range(4):
        assert attempt(client, user.email, "wrong-password").status_code == 200
    assert attempt(client, user.email, PASSWORD).status_code == 302
