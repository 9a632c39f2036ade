"""Where errors become HTTP answers: the one mapping for the whole API.

`exception_handler` (REST_FRAMEWORK["EXCEPTION_HANDLER"]) turns every error into the
bodies documented by `core.api.error_responses`:

    {"detail": "<human text>", "code": "<stable code>"}                  # any error
    {"detail": "Invalid input.", "code": "invalid", "errors": {...}}      # 400 from validation
    {..., "product_id": 1, "requested": 3, "available": 2}               # insufficient_stock

Business errors are the apps' ShopError subclasses; `SHOP_ERROR_STATUS` gives each its
status. The module lives in `config`, above every app, so it may name all of them.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import NotPermitted, ShopError
from merchants.exceptions import AlreadyApplied, NotAMerchant
from orders.exceptions import IdempotencyConflict, InvalidTransition
from payments.exceptions import InvalidRefund, PaymentInProgress, PaymentUnavailable
from pricing.exceptions import CouponExhausted, InvalidCoupon, ShippingRequired, ShippingUnavailable
from shop.exceptions import InsufficientStock, InvalidCart
from wallets.exceptions import InsufficientFunds, WalletLocked

# Business errors from the services: class -> HTTP status. The most specific class wins.
SHOP_ERROR_STATUS = {
    InvalidCart: status.HTTP_400_BAD_REQUEST,
    InvalidRefund: status.HTTP_400_BAD_REQUEST,
    InvalidCoupon: status.HTTP_400_BAD_REQUEST,
    ShippingRequired: status.HTTP_400_BAD_REQUEST,
    ShippingUnavailable: status.HTTP_400_BAD_REQUEST,
    CouponExhausted: status.HTTP_409_CONFLICT,
    InsufficientStock: status.HTTP_409_CONFLICT,
    InvalidTransition: status.HTTP_409_CONFLICT,
    PaymentInProgress: status.HTTP_409_CONFLICT,
    InsufficientFunds: status.HTTP_409_CONFLICT,
    WalletLocked: status.HTTP_409_CONFLICT,
    AlreadyApplied: status.HTTP_409_CONFLICT,
    NotAMerchant: status.HTTP_403_FORBIDDEN,
    IdempotencyConflict: status.HTTP_422_UNPROCESSABLE_ENTITY,
    NotPermitted: status.HTTP_403_FORBIDDEN,
    PaymentUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def shop_error_status(exc: ShopError) -> int:
    for klass in type(exc).__mro__:
        if klass in SHOP_ERROR_STATUS:
            return SHOP_ERROR_STATUS[klass]
    return status.HTTP_400_BAD_REQUEST


def shop_error_body(exc: ShopError) -> dict:
    body = {"detail": str(exc.detail), "code": exc.code}
    if isinstance(exc, InsufficientStock):
        body.update(product_id=exc.product_id, requested=exc.requested, available=exc.available)
    return body


def exception_handler(exc, context):
    """Turn any error into `{"detail", "code", ...}`; see the module docstring."""
    if isinstance(exc, ShopError):
        response = Response(shop_error_body(exc), status=shop_error_status(exc))
        if isinstance(exc, PaymentUnavailable):
            response["Retry-After"] = "30"
        return response
    if isinstance(exc, DjangoValidationError):
        # Model validation (full_clean) inside a service: the client's input was wrong.
        errors = (
            exc.message_dict
            if hasattr(exc, "error_dict")
            else {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        )
        exc = exceptions.ValidationError(errors)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data
        if not isinstance(errors, dict):
            errors = {api_settings.NON_FIELD_ERRORS_KEY: errors}
        response.data = {"detail": _("Invalid input."), "code": "invalid", "errors": errors}
        return response
    response.data = _flat_error(exc, response.data)
    return response


def _flat_error(exc, data) -> dict:
    """`{"detail": str, "code": str}` for every other DRF (or simplejwt) exception."""
    code = getattr(exc, "default_code", "error")
    if isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        code = str(data.get("code") or getattr(detail, "code", None) or code)
    elif isinstance(data, dict):
        # e.g. simplejwt errors carrying several messages; keep the first one.
        detail = next(iter(data.values()), "")
    else:
        detail = data
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
    if hasattr(detail, "code") and detail.code and code == "error":
        code = detail.code
    return {"detail": str(detail), "code": code}
