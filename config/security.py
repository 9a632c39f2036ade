"""Login brute-force protection, built on django-axes (issue 13; OWASP ASVS 2.2.1, NIST SP
800-63B 5.2.2: at most 100 failed attempts per account per hour, without letting an
attacker lock the owner out).

Every failed password check of a login that passes a request counts: the sign-in page,
the admin's and `POST /api/v1/auth/token`. The account is the address typed, letter case
ignored (`shop.models.login_key`); the client is its IP address (REMOTE_ADDR, or
X-Forwarded-For behind NUM_PROXIES). Each failure is stored with its time (django-axes'
AccessFailureLog; its AccessAttempt rows keep a summary per account, address and browser).

A login is refused, without checking the password, while within the last hour
(AXES_COOLOFF_TIME) there were:

1. LOGIN_FAILURES_PER_CLIENT (5) failures of this account from this address: a lock of
   that pair. The guesser stops; the owner anywhere else is not affected.
2. LOGIN_FAILURES_PER_IP (100) failures from this address, whatever the accounts: a lock
   of the address against password spraying.
3. LOGIN_FAILURES_PER_ACCOUNT (100) failures of this account from anywhere: a slow-down,
   not a lock. However many addresses an attacker has, the account takes at most 100
   guesses an hour; but
   - it does not apply at an address the account signed in from successfully within
     KNOWN_ADDRESS_DAYS (NIST 5.2.2 names this allow-list): the owner's usual devices
     still sign in with the right password (limit 1 still applies there);
   - it lifts by itself as failures age, one guess at a time: it is a rate, and the
     answer says when the next attempt is accepted (Retry-After);
   - a password reset (the link in the mailbox proves the owner) clears every failure of
     the account and signs the owner in (`shop.views.PasswordResetConfirmView`), so a new
     device is never shut out by someone else's guesses.

Each block lasts until fewer than its limit of failures remain within the hour. A refused
attempt checks no password and is not stored, so it never extends a block
(AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off). A successful login clears the failures
of that account from that address only: clearing the address would let an attacker reset
the spraying limit by signing in to an account of their own, and the owner's success does
not make the guesses from elsewhere less dangerous. Deleting an AccessAttempt (success,
expiry, password reset, the admin, `axes_reset*` commands) deletes the failures it sums up.

While blocked, the sign-in pages answer 429 with the reason and Retry-After; the API answers
429 `{"detail": ..., "code": "throttled"}` with Retry-After (never 401).

Limit: the counts are read before the password is checked, so guesses sent at the same
moment can pass a limit by as many as are in flight.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.signals import user_locked_out
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from shop.forms import LoginForm
from shop.models import login_key

KNOWN_ADDRESS_DAYS = 30

CLIENT, ADDRESS, ACCOUNT = "client", "address", "account"
_MESSAGES = {
    CLIENT: (
        "Too many failed sign-in attempts for this account from your address. Try again in "
        "{minutes} or reset your password."
    ),
    ADDRESS: "Too many failed sign-in attempts from your address. Try again in {minutes}.",
    ACCOUNT: (
        "Too many failed sign-in attempts for this account: it is slowed down to protect it. "
        "Try again in {minutes}, sign in from a device you have used before, or reset your "
        "password."
    ),
}


def django_request(request):
    """The HttpRequest under a DRF Request (simplejwt passes DRF's): axes keeps its flags on
    the request that its middleware turns into the 429."""
    return getattr(request, "_request", request)


def attempted_username(request, credentials=None) -> str | None:
    """The account tried (AXES_USERNAME_CALLABLE): "A@x.com" and "a@x.com" are one."""
    value = None
    if credentials:
        value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        data = getattr(request, "data", None) or request.POST
        value = data.get("username") or data.get("email")
    if not isinstance(value, str):
        return None
    return login_key(value) or None


def failure_limit(request, credentials=None) -> int:
    """AXES_FAILURE_LIMIT, for axes' own messages; the limits are applied by login_block."""
    return settings.LOGIN_FAILURES_PER_CLIENT


@dataclass(frozen=True)
class LoginBlock:
    scope: str  # CLIENT, ADDRESS or ACCOUNT
    until: datetime

    @property
    def retry_after(self) -> int:
        """Whole seconds until the next attempt is accepted, at least 1."""
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))

    @property
    def message(self) -> str:
        minutes = math.ceil(self.retry_after / 60)
        return _MESSAGES[self.scope].format(
            minutes="1 minute" if minutes == 1 else f"{minutes} minutes"
        )


def login_block(request, credentials=None) -> LoginBlock | None:
    """The block (the longest, when several apply) a login of `request` meets now, or None."""
    window = settings.AXES_COOLOFF_TIME
    now = timezone.now()
    failures = AccessFailureLog.objects.filter(attempt_time__gt=now - window)
    account = attempted_username(request, credentials)
    address = request.axes_ip_address
    limits = [(ADDRESS, failures.filter(ip_address=address), settings.LOGIN_FAILURES_PER_IP)]
    if account:
        limits += [
            (
                CLIENT,
                failures.filter(username=account, ip_address=address),
                settings.LOGIN_FAILURES_PER_CLIENT,
            ),
            (ACCOUNT, failures.filter(username=account), settings.LOGIN_FAILURES_PER_ACCOUNT),
        ]
    blocks = []
    for scope, rows, limit in limits:
        # Blocked while `limit` failures are within the window: until the limit-th newest
        # of them leaves it.
        newest = rows.order_by("-attempt_time").values_list("attempt_time", flat=True)
        nth = list(newest[limit - 1 : limit])
        if nth and not (scope == ACCOUNT and _known_address(account, address, now)):
            blocks.append(LoginBlock(scope=scope, until=nth[0] + window))
    return max(blocks, key=lambda block: block.until, default=None)


def _known_address(account: str, address, now) -> bool:
    """The account signed in successfully from `address` within KNOWN_ADDRESS_DAYS."""
    return AccessLog.objects.filter(
        username__iexact=account,
        ip_address=address,
        attempt_time__gte=now - timedelta(days=KNOWN_ADDRESS_DAYS),
    ).exists()


class LoginLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with the limits of `login_block` (module doc)."""

    def is_locked(self, request, credentials=None) -> bool:
        return login_block(request, credentials) is not None

    def get_failures(self, request, credentials=None) -> int:
        # axes asks this before it stores a failure, to decide whether the failure locks;
        # user_login_failed below decides once it is stored, so axes never does.
        return 0

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        request = django_request(request)
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out:
            return
        if self.is_locked(request, credentials):  # this failure reached a limit
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=attempted_username(request, credentials),
                ip_address=request.axes_ip_address,
            )

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, django_request(request), user, **kwargs)

    def reset_user_attempts(self, request, credentials=None) -> int:
        """After a successful login: this account's failures from this address only."""
        count, _ = AccessAttempt.objects.filter(
            username=attempted_username(request, credentials), ip_address=request.axes_ip_address
        ).delete()
        return count

    def post_delete_access_attempt(self, instance, **kwargs):
        AccessFailureLog.objects.filter(
            username=instance.username,
            ip_address=instance.ip_address,
            user_agent=instance.user_agent,
        ).delete()


class LoginLockoutBackend(AxesStandaloneBackend):
    """Refuses logins while blocked (django-axes' AxesStandaloneBackend).

    Logins without a request (the test client's `login()`, management commands) are
    not counted and not refused here: there is no client address to count them by.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(
            django_request(request), username=username, password=password, **kwargs
        )


def lockout_response(request, original_response=None, credentials=None):
    """429 Too Many Requests with Retry-After: JSON under the API, else the login page
    again with the reason (AXES_LOCKOUT_CALLABLE)."""
    block = login_block(request, credentials)
    if block is None:  # the failures were cleared in the meantime
        return original_response
    match = request.resolver_match
    if match is not None and "api" in match.namespaces:
        response = JsonResponse({"detail": block.message, "code": "throttled"}, status=429)
    else:
        response = _login_page(request, credentials, block)
    response["Retry-After"] = str(block.retry_after)
    return response


def _login_page(request, credentials, block: LoginBlock):
    # Unbound: validating it would try the credentials again and count another failure.
    form = LoginForm(request, initial={"username": attempted_username(request, credentials)})
    return render(
        request,
        "registration/login.html",
        {"form": form, "locked_out": True, "lockout_message": block.message},
        status=429,
    )
