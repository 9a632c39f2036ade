"""The OpenAPI schema: valid, served, documented; and the API fuzzed against it.

Schemathesis generates requests from the live schema (served by the app at /api/schema/):

- `st run --checks all` (every check: also that the API refuses what the schema forbids
  and accepts what it allows, authentication, allowed methods) as a customer and
  anonymously, run in-process against the live server, with `schemathesis.toml`;
- per operation, in-process on the WSGI app, as a customer and as staff, with ids aimed
  at real objects: every response documented (status, content type, body schema) and
  none a 5xx.
"""

import random
from pathlib import Path

import pytest
import schemathesis
from click.testing import CliRunner
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
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.cli import schemathesis as st
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.tests.helpers import client_for
from orders.checkout import place_order
from orders.tests.factories import make_order
from shop.tests.clients import STAFF_PERMISSIONS
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 8
# Not `negative_data_rejection` here (the `st run` tests below check it as a customer):
# staff's decimal fields take `0` as "0.00", by design.
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
    for path in (
        "/api/v1/orders/checkout:",
        "/api/v1/orders/{id}/refund:",
        "/api/v1/audit:",
        "/api/v1/wallet/deposits:",
        "/api/v1/wallet/withdrawals/{id}/approve:",
    ):
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
    assert len(operations) == 48
    for (method, path), op in operations.items():
        codes = set(op["responses"])
        assert codes & {"200", "201", "204"}, (method, path)
        assert any(code.startswith("4") for code in codes), (method, path)
        bodyless = ("/cancel", "/fulfil", "/approve", "/reject")
        if method in ("POST", "PUT", "PATCH") and not path.endswith(bodyless):
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


# --- st run --checks all ------------------------------------------------------------------

# Bounded: a fixed seed, a few examples per operation; schemathesis' coverage phase (the
# boundary values of every parameter) takes most of the time.
ST_RUN = [
    "--checks=all",
    "--max-examples=5",
    "--seed=20261203",
    "--generation-database=none",
    "--workers=1",  # 2 threads trip CPython 3.11's "AST constructor recursion depth" bug
    "--no-color",
]


@pytest.fixture
def live_api(transactional_db, live_server, stripe_sim, settings):
    """The shop under the live server, paying through the simulator: a customer with an
    order, products; no throttling."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "100000/min", "checkout": "100000/min"},
    }
    customer = UserFactory()
    product = ProductFactory(stock=100_000)
    ProductFactory(stock=100_000)
    place_order(user=customer, lines=[(product.pk, 1)])  # payment_pending at the simulator
    return live_server.url, customer


@pytest.fixture
def st_config(tmp_path):
    """The project's schemathesis.toml, without the crash cache it would write here."""
    config = tmp_path / "schemathesis.toml"
    config.write_text((ROOT / "schemathesis.toml").read_text() + "\n[cache]\nenabled = false\n")
    return config


def st_run(config, base_url: str, *options: str):
    return CliRunner().invoke(
        st,
        [
            f"--config-file={config}",
            "run",
            f"{base_url}/api/schema/?format=json",
            *ST_RUN,
            *options,
        ],
    )


def test_st_run_checks_all_as_a_customer_finds_nothing(live_api, st_config):
    base_url, customer = live_api
    token = AccessToken.for_user(customer)

    result = st_run(st_config, base_url, f"--header=Authorization: Bearer {token}")

    assert result.exit_code == 0, result.output
    assert "48 selected / 48 total" in result.output


def test_st_run_checks_all_anonymously_finds_nothing(live_api, st_config):
    """The operations open to anyone (the others answer 401, which the customer's run
    checks too, by leaving the token out)."""
    base_url, _ = live_api
    schema = APIClient().get("/api/schema/?format=json").json()
    public = [
        op["operationId"]
        for item in schema["paths"].values()
        for op in item.values()
        if "security" not in op
    ]
    assert sorted(public) == [
        "auth_register",
        "auth_token",
        "auth_token_refresh",
        "categories_list",
        "products_list",
        "products_retrieve",
        "shipping_methods_list",
    ]

    result = st_run(st_config, base_url, *(f"--include-operation-id={op}" for op in public))

    assert result.exit_code == 0, result.output
    assert "7 selected / 48 total" in result.output


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
