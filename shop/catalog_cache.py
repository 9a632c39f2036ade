"""The product list's short cache (`GET products`, CATALOG_CACHE_SECONDS).

Everyone sees the same list, so one cached answer per query string serves all. Its stock
figures may be that many seconds old (checkout re-checks them under its lock), but a
product created, changed or taken off sale shows at once: every such change bumps the
catalog's generation after it commits, and the generation is part of each cached
answer's key, so the answers cached before it are never read again (they expire).
"""

from django.conf import settings
from django.core.cache import cache
from django.middleware.cache import CacheMiddleware
from django.utils.decorators import decorator_from_middleware_with_args

GENERATION_KEY = "catalog:generation"


def changed() -> None:
    """A product was created or changed (call it once that commits)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there yet, or evicted: any new value differs from the old
        cache.set(GENERATION_KEY, 1, timeout=None)


class _ProductListCache(CacheMiddleware):
    @property
    def key_prefix(self) -> str:
        return f"products.{cache.get(GENERATION_KEY, 0)}"

    @key_prefix.setter
    def key_prefix(self, value) -> None:
        pass  # CacheMiddleware sets its fixed prefix here; this one follows the catalog


def cache_product_list(view):
    """Cache `view`'s answers for CATALOG_CACHE_SECONDS in the catalog's generation."""
    return decorator_from_middleware_with_args(_ProductListCache)(
        page_timeout=settings.CATALOG_CACHE_SECONDS
    )(view)
