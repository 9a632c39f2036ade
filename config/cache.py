"""Django's Redis cache, failing open (settings.CACHES when REDIS_URL is set).

The shop uses its cache for throttle counters (`count_hit`: one round trip per request),
the cached product list and the cache in front of database sessions (`cached_db`);
PostgreSQL holds everything that matters. So
when Redis is down or hung, a cache operation answers as Django's DummyCache would (a
miss; nothing stored) instead of raising: throttles let requests through, pages are
rendered afresh, sessions are read from and written to the database.

Each such answer counts in `shop_cache_fail_open_total` (by operation). A connection
error or timeout (settings.REDIS_CACHE_OPTIONS: short socket timeouts) also makes this
process skip Redis for CACHE_RETRY_SECONDS, and is logged once for that: a hung Redis
costs one timeout per process every few seconds, not one per cache call.
"""

import threading
import time

import redis
import structlog
from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from config import metrics

log = structlog.get_logger("shop.cache")

_FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
_KEY_MISSING = object()

_lock = threading.Lock()
_skip_until: dict[tuple[str, ...], float] = {}  # servers -> monotonic time


class FailOpenRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._circuit = tuple(servers)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key=None, *, write=False):
        # One redis-py client per server, kept (Django makes one per call; each is a
        # wrapper around the same connection pool, and thread-safe).
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client

    def count_hit(self, key, timeout):
        return self._fail_open("count_hit", (0, 0), key, timeout)

    def add(self, key, value, timeout):
        return self._fail_open("add", True, key, value, timeout)

    def get(self, key, default):
        return self._fail_open("get", default, key, default)

    def set(self, key, value, timeout):
        return self._fail_open("set", None, key, value, timeout)

    def touch(self, key, timeout):
        return self._fail_open("touch", False, key, timeout)

    def delete(self, key):
        return self._fail_open("delete", False, key)

    def get_many(self, keys):
        return self._fail_open("get_many", {}, keys)

    def has_key(self, key):
        return self._fail_open("has_key", False, key)

    def incr(self, key, delta):
        return self._fail_open("incr", _KEY_MISSING, key, delta)

    def set_many(self, data, timeout):
        return self._fail_open("set_many", None, data, timeout)

    def delete_many(self, keys):
        return self._fail_open("delete_many", None, keys)

    def clear(self):
        return self._fail_open("clear", False)

    def _count_hit(self, key, timeout):
        """Count a hit in `key`'s window of `timeout` seconds, opened by the first hit:
        (hits so far, seconds until the window ends), in one round trip (MULTI/EXEC, so
        the counter can never be left without its expiry)."""
        pipe = self.get_client(key, write=True).pipeline(transaction=True)
        pipe.set(key, 0, ex=timeout, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, hits, ttl = pipe.execute()
        return hits, max(ttl, 0)

    def _fail_open(self, operation: str, fallback, *args):
        if time.monotonic() >= _skip_until.get(self._circuit, 0.0):
            try:
                if operation == "count_hit":
                    return self._count_hit(*args)
                return getattr(super(), operation)(*args)
            except _FAILURES as exc:
                self._skip_for_a_while(exc)
        metrics.CACHE_FAIL_OPEN.labels(operation=operation).inc()
        if fallback is _KEY_MISSING:  # incr of a missing key: what any Django cache raises
            raise ValueError(f"Key {args[0]!r} not found (the cache is unavailable).")
        return fallback

    def _skip_for_a_while(self, exc: Exception) -> None:
        retry_seconds = settings.CACHE_RETRY_SECONDS
        with _lock:
            _skip_until[self._circuit] = time.monotonic() + retry_seconds
        log.warning(
            "cache_unavailable",
            error=f"{type(exc).__name__}: {exc}",
            retry_in_seconds=retry_seconds,
        )


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient

    def count_hit(self, key, timeout, version=None):
        """A fixed-window hit counter (core.api's throttles): (hits in the window,
        seconds left in it); (0, 0) while Redis is unavailable (fail open)."""
        key = self.make_and_validate_key(key, version=version)
        return self._cache.count_hit(key, timeout)


def reset() -> None:
    """Forget every outage: the next operation tries Redis again (tests)."""
    with _lock:
        _skip_until.clear()
