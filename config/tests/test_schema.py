"""The OpenAPI schema: valid, served, documented; and the API fuzzed against it.

Schemathesis generates requests from the live schema (served by the app at /api/schema/)
and runs them in-process on PostgreSQL, as a customer and as staff. Every response must be
documented (status, content type, body schema) and none may be a 5xx.
"""

import random

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.tests.helpers import client_for
from orders.tests.factories import make_order
from shop.tests.clients import STAFF_PERMISSIONS
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

MAX_EXAMPLES = 8
# Not `negative_data_rejection`: DRF coerces `0` to "0.00" for a decimal and ignores a
# malformed `page_size`, by design; the contract asks for no 5xx and documented answers.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_spectacular_validate_fail_on_warn_passes(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/orders/checkout:", "/api/v1/orders/{id}/refund:", "/api/v1/audit:"):
        assert path in text


@pytest.mark.django_db
def test_schema_documents_every_operation_with_errors():
    schema = APIClient().get("/api/schema/?format=json").json()
    assert schema["openapi"].startswith("3.")
    operations = {
        (method.upper(), path): op
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }
    assert len(operations) == 23
    for (method, path), op in operations.items():
        codes = set(op["responses"])
        assert codes & {"200", "201", "204"}, (method, path)
        assert any(code.startswith("4") for code in codes), (method, path)
        if method in ("POST", "PUT", "PATCH") and not path.endswith(("/pay", "/cancel", "/fulfil")):
            assert "requestBody" in op, (method, path)
    checkout = operations[("POST", "/api/v1/orders/checkout")]
    assert {"200", "201", "400", "401", "409", "422", "429"} <= set(checkout["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in checkout["parameters"])


@pytest.mark.django_db
def test_swagger_ui_is_served_from_local_static_files(settings):
    # Production serves collected, hashed files; tests have no manifest to look them up in.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    assert "swagger-ui" in html
    bundle = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert f'src="/static/{bundle}"' in html
    assert finders.find(bundle) is not None  # shipped in the package, collected by collectstatic
    assert "cdn" not in html.lower()
    assert "unpkg" not in html.lower()


# --- fuzzing ---------------------------------------------------------------------------------


@pytest.fixture
def fuzz_world(db, stripe_sim, settings):
    """A customer with an order, a staff member and a product; throttles out of the way."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "100000/min", "checkout": "100000/min"},
    }
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    cache.clear()
    # As Django's test client does: the WSGI handler must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    customer = UserFactory()
    product = ProductFactory(stock=1000)
    order = make_order(user=customer, lines=[(product.pk, 1)])
    staff = StaffFactory(permissions=STAFF_PERMISSIONS)  # past the permission checks
    yield {"customer": customer, "staff": staff, "product": product, "order": order}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _live_schema():
    """The schema as the app serves it at /api/schema/, loaded through the WSGI app.

    Loaded when the module is imported (schemathesis' lazy `from_fixture` does not work with
    this pytest version); no database is needed to serve the schema.
    """
    with override_settings(ALLOWED_HOSTS=["localhost"]):
        loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    loaded.config.generation.update(
        max_examples=MAX_EXAMPLES,
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        deterministic=True,
        database="none",
    )
    return loaded


schema = _live_schema()
# The fixture objects are made once per operation and shared by its examples.
one_world_per_operation = hypothesis_settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _point_at_real_objects(case, world, rng):
    """Half of the time, aim path ids at objects that exist, so more than 404s are tested."""
    params = case.path_parameters or {}
    if rng.random() < 0.5:
        return
    if "/orders/{id}" in case.path and "id" in params:
        params["id"] = str(world["order"].pk)
    elif "id" in params:
        params["id"] = world["product"].pk
    if "product_id" in params:
        params["product_id"] = world["product"].pk


def _call_and_check(case, world, role):
    rng = random.Random(repr(case.path_parameters) + repr(case.body))
    _point_at_real_objects(case, world, rng)
    headers = {"Authorization": client_for(world[role])._credentials["HTTP_AUTHORIZATION"]}
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    assert response.status_code < 500


@schema.parametrize()
@one_world_per_operation
def test_api_matches_its_schema_as_customer(case, fuzz_world):
    _call_and_check(case, fuzz_world, "customer")


@schema.parametrize()
@one_world_per_operation
def test_api_matches_its_schema_as_staff(case, fuzz_world):
    _call_and_check(case, fuzz_world, "staff")
