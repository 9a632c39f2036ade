"""/healthz: what load balancers poll."""

import pytest
from django.db import OperationalError

import config.views

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_while_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_when_the_database_is_unreachable(client, monkeypatch):
    calls = []

    def unreachable(*args, **kwargs):
        calls.append(1)
        raise OperationalError("connection refused")

    monkeypatch.setattr(config.views.connection, "cursor", unreachable)

    response = client.get("/healthz")

    assert calls == [1]
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_recovers_when_the_database_is_back(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(config.views.connection, "cursor", unreachable)
    assert client.get("/healthz").status_code == 503
    monkeypatch.undo()

    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthz_only_answers_get(client, method):
    response = getattr(client, method)("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET"


# /readyz: the database and Redis (when configured).


def test_readyz_skips_redis_when_it_is_not_configured(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "skipped"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ok_while_the_database_and_redis_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on port 9

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "redis": "unreachable"}


def test_readyz_is_503_when_the_database_is_unreachable(client, settings, monkeypatch):
    settings.REDIS_URL = ""

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(config.views.connection, "cursor", unreachable)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable", "redis": "skipped"}


def test_probes_need_no_login_and_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.REDIS_URL = ""

    assert client.get("/").status_code == 301  # everything else goes to https
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_probes_echo_the_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="probe-42")
    assert response["X-Request-ID"] == "probe-42"
