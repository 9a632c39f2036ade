"""Login brute-force protection, built on django-axes.

Every failed login is stored by django-axes (one row per username, address and user
agent). A login is refused, without checking the password, while any of these counts
reaches its limit within the cool-off window (AXES_COOLOFF_TIME, an hour):

- one account from one address: LOGIN_FAILURES_PER_CLIENT (5): stops a single guesser
  early without letting anyone lock a customer out from elsewhere;
- one account from anywhere: LOGIN_FAILURES_PER_ACCOUNT (100): the ceiling on guesses
  per account per hour, however many addresses an attacker uses;
- one address, any accounts: LOGIN_FAILURES_PER_IP (100): stops password spraying.

django-axes compares one number with one limit, so `LoginLockoutHandler.get_failures`
reports each count scaled to the per-account limit and `failure_limit` returns that limit.
"""

import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render


def attempted_username(request, credentials=None) -> str | None:
    """The login name tried, normalised, so "A@x.com" and "a@x.com" count as one account."""
    value = None
    if credentials:
        value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        data = getattr(request, "data", None) or request.POST
        value = data.get("username") or data.get("email")
    if not isinstance(value, str):
        return None
    return value.strip().lower() or None


def failure_limit(request, credentials=None) -> int:
    return settings.LOGIN_FAILURES_PER_ACCOUNT


def _limit_for(parameter) -> int:
    keys = {parameter} if isinstance(parameter, str) else set(parameter)
    if keys == {"username", "ip_address"}:
        return settings.LOGIN_FAILURES_PER_CLIENT
    if keys == {"username"}:
        return settings.LOGIN_FAILURES_PER_ACCOUNT
    return settings.LOGIN_FAILURES_PER_IP


class LoginLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with a limit per lockout parameter."""

    def get_failures(self, request, credentials=None) -> int:
        parameters = get_lockout_parameters(request, credentials)
        attempts_list = self.get_user_attempts(request, credentials)
        scaled = 0
        for parameter, attempts in zip(parameters, attempts_list, strict=True):
            failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            limit = max(_limit_for(parameter), 1)
            scaled = max(scaled, math.ceil(failures * settings.LOGIN_FAILURES_PER_ACCOUNT / limit))
        return scaled


class LoginLockoutBackend(AxesStandaloneBackend):
    """Refuses logins while locked out (django-axes' AxesStandaloneBackend).

    Logins without a request (the test client's `login()`, management commands) are
    not counted and not refused here: there is no client address to count them by.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, with the reason, as 429 Too Many Requests."""
    from shop.forms import LoginForm

    # Unbound: validating it would try the credentials again and count another failure.
    form = LoginForm(request, initial={"username": attempted_username(request, credentials)})
    return render(
        request,
        "registration/login.html",
        {
            "form": form,
            "locked_out": True,
            "lockout_message": (
                "Too many failed sign-in attempts. For your security, sign-in is blocked "
                "for a while; try again in an hour or reset your password."
            ),
        },
        status=429,
    )
