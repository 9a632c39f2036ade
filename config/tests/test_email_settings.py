"""Where order emails go when EMAIL_URL is unset: the console in development only; production
never prints customers' addresses into the logs (issue 14, item 8)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT]))"
)


def email_settings(**env):
    # Only these variables: nothing of the test run's environment leaks in.
    environ = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    result = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", SHOW], cwd=ROOT, env=environ, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.splitlines()[-1])


def test_production_without_email_url_hands_mail_to_smtp_on_localhost():
    backend, host, port = email_settings(
        DEBUG="false", SECRET_KEY="k" * 50, JWT_SIGNING_KEY="j" * 40
    )

    assert backend == "django.core.mail.backends.smtp.EmailBackend"
    assert (host, port) == ("localhost", 25)


def test_development_keeps_the_console():
    backend, _, _ = email_settings(DEBUG="true")

    assert backend == "django.core.mail.backends.console.EmailBackend"


def test_email_url_wins_either_way():
    backend, host, port = email_settings(
        DEBUG="false",
        SECRET_KEY="k" * 50,
        JWT_SIGNING_KEY="j" * 40,
        EMAIL_URL="smtp+tls://mailer:secret@smtp.example.com:587",
    )

    assert (backend, host, port) == (
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        587,
    )
