"""Production settings: `manage.py check --deploy` is clean with a production environment,
and the security headers (CSP included) are what the payment page needs."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_deploy_check(**overrides):
    # scripts/deploy-check.sh --ci, as `make test` runs it: a made-up production
    # environment and nothing from the test run's (DEBUG, the test keys,
    # SECURE_SSL_REDIRECT=false ...); VAR=value arguments change it.
    args = [f"{key}={'' if value is None else value}" for key, value in overrides.items()]
    return subprocess.run(  # noqa: S603 - our script
        [ROOT / "scripts" / "deploy-check.sh", "--ci", *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_is_clean_with_production_settings():
    result = run_deploy_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_deploy_check_catches_debug_left_on():
    # A control: the check does run and fails on a real problem.
    result = run_deploy_check(DEBUG="true")

    assert result.returncode == 1
    assert "security.W018" in result.stderr


def test_make_test_runs_the_deploy_check():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest: ", 1)[1].split("\n\n", 1)[0]
    assert "scripts/deploy-check.sh --ci" in recipe


def test_production_refuses_to_start_without_a_secret_key():
    result = run_deploy_check(SECRET_KEY=None)

    assert result.returncode == 1
    assert "SECRET_KEY must be set" in result.stderr


# Headers: with the test settings (plain HTTP), what every page carries.


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client, settings):
    settings.STRIPE_API_BASE = ""

    response = client.get("/")

    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert csp["frame-src"] == [
        "https://js.stripe.com",
        "https://*.js.stripe.com",
        "https://hooks.stripe.com",
    ]
    assert csp["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_the_simulator_origin_is_allowed_to_connect_when_configured(client, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111/"

    csp = csp_directives(client.get("/"))

    assert csp["connect-src"] == ["'self'", "https://api.stripe.com", "http://127.0.0.1:12111"]


@pytest.mark.django_db
def test_https_requests_get_hsts(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True

    # TLS ends at the proxy, which says so in X-Forwarded-Proto.
    response = client.get("/", HTTP_X_FORWARDED_PROTO="https")

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


TEMPLATES = ROOT / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def test_storefront_templates_have_no_inline_script_or_style():
    # The CSP blocks them; anything a page needs lives in static/js and static/css.
    # Not checked: emails/ (mail clients need inline styles; no CSP there) and
    # admin/orders/ (the orders admin's own templates).
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if any(part in path.as_posix() for part in ("templates/emails/", "admin/orders/")):
            continue
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE):
            if pattern.search(text):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern.pattern}")
    assert offenders == []


@pytest.mark.django_db
def test_swagger_ui_inline_blocks_are_allowed_by_hash_only(client):
    import base64
    import hashlib

    response = client.get("/api/docs/")

    html = response.content.decode()
    script = html.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = csp_directives(response)
    assert f"'sha256-{digest}'" in csp["script-src"]
    assert "'unsafe-inline'" not in csp["script-src"]
    # Only there: other pages get no hashes.
    assert not any(s.startswith("'sha256-") for s in csp_directives(client.get("/"))["script-src"])
