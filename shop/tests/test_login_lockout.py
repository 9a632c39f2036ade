"""Login brute force (config/security.py, issue 13): a lock per (account, address), a lock
per address, a per-account slow-down that an attacker cannot turn against the owner, the
API's 429, and the password reset that ends it all."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core import mail
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token"
HOUR = 3600  # Retry-After counts down while a test runs: allow a minute of slack


def attempt(client, email, password, ip="127.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def api_attempt(client, email, password, ip="127.0.0.1"):
    return client.post(
        TOKEN,
        {"email": email, "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def logged_in_as(client, user) -> bool:
    return str(client.session.get("_auth_user_id")) == str(user.pk)


def age_failures(minutes: int) -> None:
    """Let every stored failure be `minutes` older, as time would."""
    shift = timedelta(minutes=minutes)
    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - shift)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - shift)


def failures_within_the_hour(user) -> int:
    since = timezone.now() - timedelta(hours=1)
    return AccessFailureLog.objects.filter(username=user.email, attempt_time__gt=since).count()


def retry_after(response) -> int:
    return int(response["Retry-After"])


def botnet(client, email, guesses: int, first: int = 0) -> list[int]:
    """`guesses` wrong passwords for `email`, 4 from each address (under the per-address
    limit of 5); returns the status codes."""
    return [
        attempt(client, email, f"guess-{n}", ip=f"10.0.{n // 4}.{n % 4 + 1}").status_code
        for n in range(first, first + guesses)
    ]


# --- per (account, address) --------------------------------------------------------------------


def test_five_failures_from_one_address_lock_that_address_out_of_the_account(client):
    user = UserFactory(email="victim@example.com")
    for _ in range(4):
        response = attempt(client, user.email, "wrong-password")
        assert response.status_code == 200  # the form again, with its error
    # The fifth failure locks: the answer is the lockout page.
    fifth = attempt(client, user.email, "wrong-password")
    assert fifth.status_code == 429
    assert HOUR - 60 <= retry_after(fifth) <= HOUR

    response = attempt(client, user.email, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-in attempts for this account from your address" in (
        response.content.decode()
    )
    assert HOUR - 60 <= retry_after(response) <= HOUR
    assert not logged_in_as(client, user)


def test_the_account_still_opens_from_another_address(client):
    user = UserFactory(email="victim@example.com")
    for _ in range(5):
        attempt(client, user.email, "wrong-password", ip="203.0.113.7")
    assert attempt(client, user.email, PASSWORD, ip="203.0.113.7").status_code == 429

    response = attempt(client, user.email, PASSWORD, ip="198.51.100.20")

    assert response.status_code == 302
    assert logged_in_as(client, user)


def test_ten_wrong_passwords_from_ten_addresses_do_not_lock_the_owner_out(client):
    user = UserFactory(email="owner@example.com")
    for n in range(10):
        assert attempt(client, user.email, "wrong", ip=f"192.0.2.{n + 1}").status_code == 200

    response = attempt(client, user.email, PASSWORD, ip="198.51.100.20")

    assert response.status_code == 302
    assert logged_in_as(client, user)


def test_failures_during_the_lock_do_not_renew_it(client):
    user = UserFactory(email="patient@example.com")
    for _ in range(5):
        attempt(client, user.email, "wrong-password")
    age_failures(minutes=59)

    # Refused without checking the password: not stored, so the lock does not move.
    for _ in range(10):
        response = attempt(client, user.email, "wrong-password")
        assert response.status_code == 429
        assert retry_after(response) <= 60
    assert AccessFailureLog.objects.count() == 5

    age_failures(minutes=2)  # an hour after the failure that locked
    response = attempt(client, user.email, PASSWORD)
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
    assert "Too many failed sign-in attempts from your address" in response.content.decode()


def test_a_successful_login_clears_the_address_failures(client):
    user = UserFactory(email="forgetful@example.com")
    for _ in range(4):
        attempt(client, user.email, "wrong-password")
    assert attempt(client, user.email, PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    for _ in range(4):
        assert attempt(client, user.email, "wrong-password").status_code == 200
    assert attempt(client, user.email, PASSWORD).status_code == 302


def test_signing_in_to_another_account_does_not_clear_the_failures_from_that_address(client):
    victim = UserFactory(email="victim@example.com")
    attacker = UserFactory(email="attacker@example.com")
    for _ in range(4):
        attempt(client, victim.email, "wrong-password")
    assert attempt(client, attacker.email, PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    assert attempt(client, victim.email, "wrong-password").status_code == 429


# --- per account: a slow-down, not a lock --------------------------------------------------------


def test_at_most_100_failures_per_account_per_hour_from_any_number_of_addresses(client):
    user = UserFactory(email="target@example.com")
    # A botnet: 4 guesses from each of 25 addresses stays under the per-address limit.
    statuses = botnet(client, user.email, 100)
    # The hundredth failure fills the account's hour: that answer is already the 429.
    assert statuses == [200] * 99 + [429]
    assert AccessFailureLog.objects.filter(username=user.email).count() == 100

    # The 101st try is refused without checking the password, even the right one from a
    # new address, and says when the next one is accepted.
    response = attempt(client, user.email, PASSWORD, ip="192.0.2.55")
    assert response.status_code == 429
    assert "it is slowed down to protect it" in response.content.decode()
    assert HOUR - 60 <= retry_after(response) <= HOUR
    assert not logged_in_as(client, user)
    assert AccessFailureLog.objects.count() == 100

    # An hour after the failures, the account opens again.
    age_failures(minutes=61)
    response = attempt(client, user.email, PASSWORD, ip="192.0.2.55")
    assert response.status_code == 302
    assert logged_in_as(client, user)


def test_the_slow_down_lifts_one_guess_at_a_time_as_failures_age(client):
    user = UserFactory(email="target@example.com")
    botnet(client, user.email, 1)
    age_failures(minutes=50)
    botnet(client, user.email, 99, first=1)

    # The oldest failure leaves the hour in 10 minutes: that is when a guess is accepted.
    response = attempt(client, user.email, "guess", ip="192.0.2.55")
    assert response.status_code == 429
    assert 600 - 60 <= retry_after(response) <= 600
    assert failures_within_the_hour(user) == 100

    age_failures(minutes=11)
    # One guess is checked (and stored: its failure fills the hour again)...
    assert attempt(client, user.email, "guess", ip="192.0.2.56").status_code == 429
    assert failures_within_the_hour(user) == 100
    # ...and the next waits for the next oldest failure to age out.
    response = attempt(client, user.email, PASSWORD, ip="192.0.2.57")
    assert response.status_code == 429
    assert 49 * 60 - 60 <= retry_after(response) <= 49 * 60
    assert failures_within_the_hour(user) == 100


def test_the_owner_still_signs_in_from_a_known_address_while_the_account_is_slowed(client):
    user = UserFactory(email="owner@example.com")
    home = "198.51.100.20"
    assert attempt(client, user.email, PASSWORD, ip=home).status_code == 302
    client.post("/accounts/logout/")
    botnet(client, user.email, 100)
    assert attempt(client, user.email, PASSWORD, ip="192.0.2.55").status_code == 429

    response = attempt(client, user.email, PASSWORD, ip=home)

    assert response.status_code == 302
    assert logged_in_as(client, user)


def test_a_known_address_still_has_its_own_limit_of_five(client):
    user = UserFactory(email="owner@example.com")
    shared = "198.51.100.20"
    assert attempt(client, user.email, PASSWORD, ip=shared).status_code == 302
    client.post("/accounts/logout/")
    botnet(client, user.email, 100)

    statuses = [attempt(client, user.email, "wrong", ip=shared).status_code for _ in range(6)]

    assert statuses == [200, 200, 200, 200, 429, 429]


# --- password reset ----------------------------------------------------------------------------


def reset_password(client, user, new_password: str):
    client.post(reverse("password_reset"), {"email": user.email})
    link = next(
        line.strip()
        for line in mail.outbox[-1].body.splitlines()
        if "/accounts/password/reset/" in line
    )
    form_page = client.get(link, follow=True)
    return client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
        follow=True,
    )


def test_a_password_reset_ends_the_locks_and_the_slow_down_of_the_account(client):
    user = UserFactory(email="owner@example.com")
    other = UserFactory(email="other@example.com")
    for _ in range(5):
        attempt(client, user.email, "wrong", ip="203.0.113.7")
    botnet(client, user.email, 100)
    for _ in range(2):
        attempt(client, other.email, "wrong", ip="203.0.113.7")
    assert attempt(client, user.email, PASSWORD, ip="203.0.113.7").status_code == 429

    done = reset_password(client, user, "a-fresh-passphrase")

    # The reset signs the owner in at once: nobody's guesses can keep them out.
    assert "you are signed in as owner@example.com" in done.content.decode()
    assert logged_in_as(client, user)
    assert not AccessFailureLog.objects.filter(username=user.email).exists()
    # Only this account's failures went.
    assert AccessFailureLog.objects.filter(username=other.email).count() == 2
    client.post("/accounts/logout/")
    response = attempt(client, user.email, "a-fresh-passphrase", ip="203.0.113.7")
    assert response.status_code == 302


# --- the API -----------------------------------------------------------------------------------


def test_the_api_answers_429_with_retry_after_while_locked(client):
    user = UserFactory(email="api@example.com")
    for _ in range(4):
        assert api_attempt(client, user.email, "wrong-password").status_code == 401
    fifth = api_attempt(client, user.email, "wrong-password")
    assert fifth.status_code == 429

    response = api_attempt(client, user.email, PASSWORD)

    assert response.status_code == 429
    body = response.json()
    assert body == {"detail": body["detail"], "code": "throttled"}
    assert body["detail"].startswith("Too many failed sign-in attempts for this account")
    assert "access" not in body
    assert HOUR - 60 <= retry_after(response) <= HOUR
    assert AccessFailureLog.objects.count() == 5


def test_failures_on_the_page_lock_the_api_too_and_the_other_way_round(client):
    user = UserFactory(email="api@example.com")
    for _ in range(5):
        attempt(client, user.email, "wrong-password")
    assert api_attempt(client, user.email, PASSWORD).status_code == 429

    other = UserFactory(email="other@example.com")
    for _ in range(5):
        api_attempt(client, other.email, "wrong-password", ip="203.0.113.7")
    assert attempt(client, other.email, PASSWORD, ip="203.0.113.7").status_code == 429


def test_a_successful_api_login_clears_the_address_failures(client):
    user = UserFactory(email="app@example.com")
    for _ in range(4):
        api_attempt(client, user.email, "wrong-password")
    assert api_attempt(client, user.email, PASSWORD).status_code == 200

    assert [api_attempt(client, user.email, "wrong").status_code for _ in range(4)] == [401] * 4
    assert api_attempt(client, user.email, PASSWORD).status_code == 200
