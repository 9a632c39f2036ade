"""Error answers that do not come from a DRF view: Django's handler400/403/404/500
(config.urls) and the middleware that refuses hostile query strings.

Under /api/ every one is JSON `{"detail", "code"}`, like the API's own errors
(config.api.exception_handler); elsewhere it is a page. An exception that means a service
the shop needs is down (PostgreSQL, Redis) is not a bug: it answers 503 with
`Retry-After`, `{"code": "service_unavailable"}` under /api/ and templates/503.html
elsewhere. DRF hands every exception it does not map back to Django, so this covers the
API views as well as middleware (sessions, authentication) and pages.
"""

import sys

import redis
from django import db
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

API_PREFIX = "/api/"
# A database restart takes seconds; clients and browsers may try again after this.
RETRY_AFTER_SECONDS = 5

OUTAGES = (
    db.OperationalError,  # cannot connect, connection lost, server shutting down
    db.InterfaceError,  # the connection was closed under us
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def json_error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def bad_request(request, exception=None, detail: str = "Bad request.", code: str = "bad_request"):
    if is_api(request):
        return json_error(400, detail, code)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api(request):
        return json_error(
            403, "You do not have permission to perform this action.", "permission_denied"
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if is_api(request):
        return json_error(404, "Not found.", "not_found")
    return defaults.page_not_found(request, exception)


@csrf_exempt  # any method may land here; it changes nothing, so no CSRF check (and no HTML 403)
def not_found(request, *args, **kwargs):
    """The view of every /api/ path no route matches (config.api_urls): a JSON 404."""
    return page_not_found(request)


def server_error(request):
    """handler500: Django calls it while handling the exception, so sys.exc_info() has it."""
    if isinstance(sys.exc_info()[1], OUTAGES):
        return service_unavailable(request)
    if is_api(request):
        return json_error(500, "Internal server error.", "server_error")
    return defaults.server_error(request)


def service_unavailable(request) -> HttpResponse:
    if is_api(request):
        response = json_error(
            503,
            "The service is unavailable for a moment. Please try again shortly.",
            "service_unavailable",
        )
    else:
        # No request context: its processors may need the very service that is down.
        body = loader.get_template("503.html").render()
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
