"""Test helpers every app's tests may use: core is the bottom layer, so nothing here
imports an app (users come from settings.AUTH_USER_MODEL, whichever app owns it)."""

import itertools
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

from django.contrib.auth import get_user_model
from django.test import TestCase
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

_user_numbers = itertools.count(1)


def client_for(user=None) -> APIClient:
    """An API client authenticated as `user` with a fresh JWT access token (None: anonymous)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def api(path: str) -> str:
    return f"/api/v1/{path}"


def committed():
    """Run the on_commit callbacks registered inside the block when it ends.

    Under a plain django_db test (one outer transaction that never commits) this runs the
    work production does after the commit (creating PaymentIntents, sending refunds);
    under transaction=True they already ran at once and this changes nothing.
    """
    return TestCase.captureOnCommitCallbacks(execute=True)


def grant(user, *permissions: str):
    """Give `user` the model permissions named "app_label.codename"; returns the user, fresh
    from the database (has_perm caches what it read)."""
    from django.contrib.auth.models import Permission

    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return type(user).objects.get(pk=user.pk)


def make_user(*, is_staff: bool = False, is_superuser: bool = False, email: str | None = None):
    """A saved user of AUTH_USER_MODEL, for tests of apps below the one that defines it
    (the apps above use its factories)."""
    model = get_user_model()
    number = next(_user_numbers)
    email = email or f"{'staff' if is_staff else 'user'}{number}@core-tests.example.com"
    return model.objects.create_user(
        **{model.USERNAME_FIELD: email},
        password="correct-horse-battery",
        is_staff=is_staff,
        is_superuser=is_superuser,
    )


class SilentServer:
    """A TCP server that accepts connections and never answers: a hung Redis or Stripe.

    `connections` counts the connections clients opened (each try of a client that
    retries is one).
    """

    def __init__(self):
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self.port = self._socket.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def connections(self) -> int:
        return len(self._held)

    def start(self) -> "SilentServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        for conn in self._held:
            conn.close()
        self._socket.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            self._held.append(conn)


def run_on_sqlite(tmp_path, script: str, **env) -> dict:
    """Migrate a fresh SQLite database (the demo database of `make run`) in a separate
    process, run `script` there with `manage.py shell`, and return the JSON object it
    prints last."""
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DEBUG": "true",
        **env,
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=root, env=env, check=True)  # noqa: S603
    done = subprocess.run(  # noqa: S603
        [*manage, "shell", "-c", script],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
