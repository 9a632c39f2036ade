"""Operational endpoints: /healthz, /readyz (probes) and /metrics (Prometheus)."""

import threading

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import metrics as shop_metrics

REDIS_TIMEOUT = 1.0  # seconds: a probe answers fast or reports the dependency down

_redis_lock = threading.Lock()
_redis_clients: dict[str, object] = {}


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


def _redis_client(url: str):
    """One client (and connection pool) per URL for the process, reused by every probe."""
    with _redis_lock:
        client = _redis_clients.get(url)
        if client is None:
            import redis

            client = redis.Redis.from_url(
                url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
            )
            _redis_clients[url] = client
        return client


def _redis_status() -> str:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return "skipped"
    import redis

    try:
        _redis_client(url).ping()
    except (redis.RedisError, OSError):
        return "unreachable"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    """200 while the database answers, 503 when it does not (for load balancers)."""
    if not _database_ok():
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Readiness: 200 when the database and Redis (if configured) answer, else 503."""
    checks = {
        "database": "ok" if _database_ok() else "unreachable",
        "redis": _redis_status(),
    }
    ready = all(value in ("ok", "skipped") for value in checks.values())
    body = {"status": "ok" if ready else "error", **checks}
    return JsonResponse(body, status=200 if ready else 503)


def _client_allowed(request) -> bool:
    return shop_metrics.address_allowed(request.META.get("REMOTE_ADDR", ""))


@never_cache
@require_GET
def metrics(request):
    """Prometheus exposition: staff users, or scrapers from METRICS_ALLOWED_NETWORKS.

    The address checked is the TCP peer (REMOTE_ADDR), never X-Forwarded-For, so a
    client cannot claim an allowed address through a header.
    """
    user = getattr(request, "user", None)
    is_staff = bool(user is not None and user.is_authenticated and user.is_staff)
    if not (is_staff or _client_allowed(request)):
        return HttpResponseForbidden("Forbidden", content_type="text/plain")
    body, content_type = shop_metrics.render_latest()
    return HttpResponse(body, content_type=content_type)
