"""API plumbing every app's `api.py` and `serializers.py` share.

- `Pagination`: `{count, next, previous, results}`, `?page=N`, `?page_size` 1 or more
  (above 100 answers 100), anything else a 400.
- `StrictSerializer`: the base of input serializers; it rejects unknown
  (and read-only) fields with 400, so a client can never set what it may not;
  `refuse_body` does the same for a POST that takes no body.
- `StaffWithPermission("app.codename")` (and `OwnerOrStaffWithPermission`): the one way a
  view makes an operation staff-only. Staff means `is_staff` and the Django model
  permission the same change needs in the admin (superusers hold all of them); anyone
  else gets 403 `permission_denied` (401 without credentials). The test
  `config/tests/test_staff_permissions.py` walks every API route and refuses a write
  that does not declare one.
- Throttles backed by the cache, one fixed-window counter each, failing open:
  `AuthThrottle` and `GuestThrottle` (per client IP) and `CheckoutThrottle` (per user),
  all answering 429 with `Retry-After`.
- `error_responses(...)`: the OpenAPI error responses of an operation, documenting the
  bodies that `config.api.exception_handler` (the one place errors become HTTP) writes:

      {"detail": "<human text>", "code": "<stable code>"}                  # any error
      {"detail": "Invalid input.", "code": "invalid", "errors": {...}}      # 400 from validation
      {..., "product_id": 1, "requested": 3, "available": 2}               # insufficient_stock
"""

import copy
from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

# --- pagination ------------------------------------------------------------------------


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    page_size_query_description = "Results per page, 1 or more; above 100 answers 100."
    max_page_size = 100

    # DRF reads a `page` or `page_size` it cannot use as "not given"; the schema promises
    # whole numbers, so a client sending anything else learns it from a 400. A page
    # number past the last page stays a 404.

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            _positive_int(self.page_query_param, raw)
        return super().get_page_number(request, paginator)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return min(_positive_int(self.page_size_query_param, raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters


def _positive_int(name: str, raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
        raise ValidationError({name: ["A whole number, 1 or more."]}, code="invalid")
    return int(raw)


# --- authentication ----------------------------------------------------------------------


class TokenClaimsAuthentication(JWTAuthentication):
    """JWT authentication that takes who the user is from the verified token alone,
    without reading the user (one query per request less). For customer endpoints on
    the hot path (checkout), never where staff status or permissions decide.

    `request.user` is a user instance whose only loaded field is its id; any other field
    is read from the database when first used (Django's deferred fields), so nothing
    breaks that needs more, it only costs the query it saves.

    What it gives up: a deactivated user's access tokens are not refused here; they stop
    working when they expire (SIMPLE_JWT ACCESS_TOKEN_LIFETIME: 10 minutes by default,
    and config/tests asserts at most 15). The refresh endpoint reads the user and refuses
    an inactive or deleted one at once (no_active_account), so no new access token is
    issued. A deleted user's checkout fails on the order's foreign key; the view answers
    that with 401 (orders.api).
    """

    def get_user(self, validated_token):
        model = get_user_model()
        field = model._meta.get_field(jwt_settings.USER_ID_FIELD)
        try:
            value = field.to_python(validated_token[jwt_settings.USER_ID_CLAIM])
        except (KeyError, DjangoValidationError):
            raise InvalidToken(_("Token contained no recognizable user identification")) from None
        return model.from_db(DEFAULT_DB_ALIAS, [field.attname], [value])


# --- staff permissions ----------------------------------------------------------------


class StaffWithPermission(BasePermission):
    """Staff holding the model permission `permission` ("app_label.codename").

    Configured per view, as an instance: `permission_classes = [StaffWithPermission(
    "orders.change_order")]` (DRF calls each entry to make the permission, so an instance
    returns itself). `permission` is public: the permission test reads it.
    """

    def __init__(self, permission: str):
        self.permission = permission

    def __call__(self):
        return self

    def __repr__(self):
        return f"{type(self).__name__}({self.permission!r})"

    def is_staff_with_permission(self, user) -> bool:
        return bool(
            user and user.is_authenticated and user.is_staff and user.has_perm(self.permission)
        )

    def has_permission(self, request, view):
        return self.is_staff_with_permission(request.user)


class OwnerOrStaffWithPermission(StaffWithPermission):
    """The owner of the object (its `owner_field` is the user's pk), or staff holding
    `permission`: e.g. a customer cancels their own order, staff anyone's.

    Any signed-in user passes the view-level check; the view must call
    `self.check_object_permissions(request, obj)` once it has the object.
    """

    def __init__(self, permission: str, *, owner_field: str = "user_id"):
        super().__init__(permission)
        self.owner_field = owner_field

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        if getattr(obj, self.owner_field) == request.user.pk:
            return True
        return self.is_staff_with_permission(request.user)


# --- strict input ------------------------------------------------------------------------


class RejectUnknownFieldsMixin:
    """Reject any key of the input that is not a writable field of the serializer.

    Read-only fields (status, totals, user, stock...) count as unknown: sending them is a
    400, never silently ignored. Nested serializers use it too, so it applies at every level.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Unknown field."] for key in unknown}, code="unknown_field"
                )
        return super().to_internal_value(data)


class StrictSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Base class of every input serializer."""


def refuse_body(request) -> None:
    """For a POST that takes no body (cancel, approve, reject): any field sent is unknown,
    a 400 as on every other endpoint. Views call it after their permission checks and
    before anything changes."""
    if request.data:  # {} (or an empty form) without a body
        fields = request.data if isinstance(request.data, Mapping) else ["non_field_errors"]
        raise serializers.ValidationError(
            {str(key): ["Unknown field."] for key in fields}, code="unknown_field"
        )


class TextField(serializers.CharField):
    """A CharField held to what the schema says of it: only strings (DRF's turns `0` into
    `"0"`), and `max_length` counted before white space is trimmed."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


# --- output ------------------------------------------------------------------------------


class BuiltOnceFieldsMixin:
    """A ModelSerializer whose fields are worked out from the model once per class and
    process, instead of for every instance: each instance gets copies of them (fields
    are bound to their serializer), as DRF copies a plain Serializer's declared fields.

    The introspection cost about 0.15 ms of CPU per order answered (orders/serializers.py;
    measured with bench.profile, bench/README.md). Only for serializers whose fields
    depend on the class alone, never on the instance, the context or the request.
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:  # two threads may both build them: the same fields either way
            built = super().get_fields()
            cls._built_fields = built
        return copy.deepcopy(built)


# --- throttles --------------------------------------------------------------------------


class _CacheRateThrottle(SimpleRateThrottle):
    """A fixed-window counter in the cache: the first request opens a window of the
    rate's duration, each request counts one, and past the rate's number the rest of the
    window answers 429 with the seconds it has left as `Retry-After`.

    One cache operation per request (`count_hit` of config.cache: a single Redis round
    trip) where DRF's sliding log reads and rewrites a list of timestamps (two round
    trips and a pickle of up to `rate` floats). The cost: right across a window's end a
    client can get up to twice the rate in one duration. While Redis is unavailable
    every request is let through (fail open). Reads its rate from the settings on each
    request, so tests and operators can change it (DRF's own throttles freeze
    `DEFAULT_THROTTLE_RATES` when the class is imported).
    """

    # Not DRF's "throttle_...": those keys hold DRF's timestamp lists.
    cache_format = "throttle-window_%(scope)s_%(ident)s"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        hits, self.seconds_left = _count_hit(self.cache, key, self.duration)
        return hits <= self.num_requests

    def wait(self):
        return self.seconds_left


def _count_hit(cache, key: str, seconds: int) -> tuple[int, int]:
    """(hits in `key`'s window, seconds left in it), counting this one."""
    if hasattr(cache, "count_hit"):  # config.cache's Redis cache: one round trip
        return cache.count_hit(key, seconds)
    # Any other Django cache (development, tests): the same window in two operations.
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key), seconds
    except ValueError:  # the window ended between the two: count afresh
        cache.set(key, 1, seconds)
        return 1, seconds


class AuthThrottle(_CacheRateThrottle):
    """Login and register attempts per client IP, whoever they claim to be."""

    scope = "auth"

    def get_ident(self, request):
        # Without a configured NUM_PROXIES, X-Forwarded-For is the client's to forge:
        # trust only the socket address then.
        if api_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR", "")
        return super().get_ident(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class GuestThrottle(AuthThrottle):
    """Guest checkouts and guest order links per client IP (the HTML pages ask it): like
    sign-ins, each try can sign an account in."""

    scope = "guest"


class CheckoutThrottle(_CacheRateThrottle):
    """Checkouts per signed-in user."""

    scope = "checkout"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None  # authentication fails first anyway
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


# --- schema: error bodies -------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Field name (or non_field_errors) to its messages, nested like the input.",
    )


class InsufficientStockErrorSerializer(ErrorSerializer):
    product_id = serializers.IntegerField(required=False)
    requested = serializers.IntegerField(required=False)
    available = serializers.IntegerField(required=False)


_ERROR_DESCRIPTIONS = {
    400: (
        "Invalid input (`code`: `invalid`, `parse_error`, `too_deep`, `invalid_characters`,"
        " or a business code such as `invalid_cart`)."
    ),
    401: "No or bad credentials.",
    403: "Authenticated but not allowed.",
    404: "Not found, not yours, or a malformed id in the path.",
    409: (
        "Conflict with the current state (`insufficient_stock`, `invalid_transition`, "
        "`payment_in_progress`, `insufficient_funds`, `wallet_locked`, `already_applied`)."
    ),
    422: "Idempotency key reused with a different request (`idempotency_conflict`).",
    429: "Too many requests; see `Retry-After`.",
    503: (
        "A service the shop needs cannot be reached: the database or cache"
        " (`service_unavailable`, config.errors) or the payment provider"
        " (`payment_unavailable`). See `Retry-After`."
    ),
}


def error_responses(*codes: int, conflict_stock: bool = False) -> dict:
    """OpenAPI responses for the error statuses of an operation (503: any operation
    answers it while the database is unreachable)."""
    responses = {}
    for code in sorted({*codes, 503}):
        if code == 400:
            serializer = ValidationErrorSerializer
        elif code == 409 and conflict_stock:
            serializer = InsufficientStockErrorSerializer
        else:
            serializer = ErrorSerializer
        responses[code] = OpenApiResponse(serializer, description=_ERROR_DESCRIPTIONS[code])
    return responses


EMPTY_RESPONSE = OpenApiResponse(description="No content.")
