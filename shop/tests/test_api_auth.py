"""Auth endpoints: register, token, refresh (rotation + blacklist), logout, me; JWT attacks;
session authentication with CSRF; login/register throttling."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from core.tests.helpers import api, client_for
from shop.models import User
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def _login(client, email, password=PASSWORD, **extra):
    payload = {"email": email, "password": password}
    return client.post(api("auth/token"), payload, format="json", **extra)


# --- register ---------------------------------------------------------------------------


def test_register_creates_a_customer_and_returns_tokens():
    response = APIClient().post(
        api("auth/register"), {"email": "new@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(email="new@example.com")
    assert body["user"] == {"id": user.pk, "email": "new@example.com", "is_staff": False}
    assert user.check_password(PASSWORD)
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.get(api("auth/me")).json()["email"] == "new@example.com"
    assert RefreshToken(body["refresh"])["user_id"] == str(user.pk)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "weak@example.com", "password": "123"}, "non_field_errors"),
        ({"email": "weak@example.com", "password": "password"}, "non_field_errors"),
        ({"password": PASSWORD}, "email"),
    ],
)
def test_register_rejects_bad_email_and_weak_passwords(payload, field):
    response = APIClient().post(api("auth/register"), payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "Invalid input."
    assert field in body["errors"]
    assert not User.objects.exclude(email__startswith="customer").exists()


def test_register_rejects_a_taken_email_case_insensitively():
    UserFactory(email="taken@example.com")
    response = APIClient().post(
        api("auth/register"), {"email": "TAKEN@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


@pytest.mark.parametrize("extra", [{"is_staff": True}, {"is_superuser": True}, {"id": 999}])
def test_register_rejects_privileged_fields_and_creates_nobody(extra):
    response = APIClient().post(
        api("auth/register"),
        {"email": "sneaky@example.com", "password": PASSWORD, **extra},
        format="json",
    )
    assert response.status_code == 400
    assert set(extra) <= set(response.json()["errors"])
    assert not User.objects.filter(email="sneaky@example.com").exists()


# --- token, refresh, logout ----------------------------------------------------------------


def test_token_with_good_credentials_returns_a_pair():
    user = UserFactory()
    response = _login(APIClient(), user.email)
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert AccessToken(response.json()["access"])["user_id"] == str(user.pk)


def test_token_with_bad_credentials_is_401():
    user = UserFactory()
    response = _login(APIClient(), user.email, "wrong-password")
    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"
    assert _login(APIClient(), "nobody@example.com").status_code == 401


def test_token_ignores_the_letter_case_of_the_email():
    user = User.objects.create_user(email="Ann@example.com", password=PASSWORD)
    response = _login(APIClient(), "ANN@example.COM")
    assert response.status_code == 200
    assert AccessToken(response.json()["access"])["user_id"] == str(user.pk)


def test_access_token_lifetime_is_between_5_and_15_minutes(settings):
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    assert timedelta(minutes=5) <= lifetime <= timedelta(minutes=15)
    assert settings.SIMPLE_JWT["SIGNING_KEY"] != settings.SECRET_KEY
    token = AccessToken(_login(APIClient(), UserFactory().email).json()["access"])
    assert timedelta(minutes=5) <= timedelta(seconds=token["exp"] - token["iat"]) <= lifetime


def test_refresh_rotates_and_the_used_refresh_token_is_then_rejected():
    pair = _login(APIClient(), UserFactory().email).json()
    first = APIClient().post(api("auth/token/refresh"), {"refresh": pair["refresh"]}, format="json")
    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != pair["refresh"]

    reused = APIClient().post(
        api("auth/token/refresh"), {"refresh": pair["refresh"]}, format="json"
    )
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"
    rotated = APIClient().post(
        api("auth/token/refresh"), {"refresh": first.json()["refresh"]}, format="json"
    )
    assert rotated.status_code == 200


def test_refresh_of_a_deleted_user_is_401():
    user = UserFactory()
    pair = _login(APIClient(), user.email).json()
    user.delete()

    response = APIClient().post(
        api("auth/token/refresh"), {"refresh": pair["refresh"]}, format="json"
    )

    assert response.status_code == 401
    assert response.json() == {
        "detail": "No active account found for the given token.",
        "code": "no_active_account",
    }


def test_logout_blacklists_the_refresh_token():
    user = UserFactory()
    pair = _login(APIClient(), user.email).json()
    client = client_for(user)
    response = client.post(api("auth/logout"), {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 204
    after = APIClient().post(api("auth/token/refresh"), {"refresh": pair["refresh"]}, format="json")
    assert after.status_code == 401


def test_logout_needs_authentication_and_a_valid_own_refresh_token():
    user, other = UserFactory(), UserFactory()
    pair = _login(APIClient(), user.email).json()
    anonymous = APIClient().post(api("auth/logout"), {"refresh": pair["refresh"]}, format="json")
    assert anonymous.status_code == 401
    garbage = client_for(user).post(api("auth/logout"), {"refresh": "nope"}, format="json")
    assert garbage.status_code == 400
    assert "refresh" in garbage.json()["errors"]
    foreign = client_for(other).post(
        api("auth/logout"), {"refresh": pair["refresh"]}, format="json"
    )
    assert foreign.status_code == 400
    # The owner's token was not blacklisted by the foreign attempt.
    ok = APIClient().post(api("auth/token/refresh"), {"refresh": pair["refresh"]}, format="json")
    assert ok.status_code == 200


def test_me_returns_the_user_and_needs_authentication():
    user = UserFactory()
    response = client_for(user).get(api("auth/me"))
    assert response.status_code == 200
    assert response.json() == {"id": user.pk, "email": user.email, "is_staff": False}
    anonymous = APIClient().get(api("auth/me"))
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert anonymous["WWW-Authenticate"].startswith("Bearer")


# --- JWT attacks -------------------------------------------------------------------------------


def _me_with(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(api("auth/me"))


def test_expired_access_token_is_401():
    token = AccessToken.for_user(UserFactory())
    token.set_exp(lifetime=-timedelta(seconds=1))
    response = _me_with(str(token))
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_token_signed_with_another_key_is_401(settings):
    user = UserFactory()
    claims = dict(AccessToken.for_user(user).payload)
    forged = jwt.encode(claims, settings.SECRET_KEY, algorithm="HS256")
    assert _me_with(forged).status_code == 401
    assert (
        _me_with(
            jwt.encode(claims, "another-signing-key-of-sufficient-length-32b", algorithm="HS256")
        ).status_code
        == 401
    )


def test_unsigned_alg_none_token_is_401():
    claims = dict(AccessToken.for_user(UserFactory()).payload)

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert _me_with(unsigned).status_code == 401


def test_a_refresh_token_is_not_accepted_as_access_token():
    refresh = RefreshToken.for_user(UserFactory())
    assert _me_with(str(refresh)).status_code == 401


# --- session authentication --------------------------------------------------------------------


def test_session_authentication_works_and_enforces_csrf():
    user = UserFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(api("auth/me")).json()["email"] == user.email
    pair = _login(APIClient(), user.email).json()
    response = client.post(api("auth/logout"), {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


# --- throttling ------------------------------------------------------------------------------


def test_login_is_throttled_per_ip_with_retry_after(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "3/min", "checkout": "30/min"},
    }
    user = UserFactory()
    client = APIClient(REMOTE_ADDR="10.0.0.1")
    codes = [_login(client, user.email, "wrong").status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    blocked = _login(client, user.email)
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "throttled"
    assert int(blocked["Retry-After"]) > 0
    # Forging X-Forwarded-For does not buy new attempts; another address has its own budget.
    assert _login(client, user.email, HTTP_X_FORWARDED_FOR="1.2.3.4").status_code == 429
    assert _login(APIClient(REMOTE_ADDR="10.0.0.2"), user.email).status_code == 200


def test_register_is_throttled_per_ip(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "2/min", "checkout": "30/min"},
    }
    client = APIClient(REMOTE_ADDR="10.0.0.3")
    for n in range(2):
        payload = {"email": f"r{n}@example.com", "password": PASSWORD}
        assert client.post(api("auth/register"), payload, format="json").status_code == 201
    payload = {"email": "r9@example.com", "password": PASSWORD}
    blocked = client.post(api("auth/register"), payload, format="json")
    assert blocked.status_code == 429
    assert "Retry-After" in blocked
    assert not User.objects.filter(email="r9@example.com").exists()
