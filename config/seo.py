"""What search engines and browsers ask the site root for: /sitemap.xml, /robots.txt
and /favicon.ico.

Each app lists its own pages in a sitemap section (shop.sitemaps, ...); this module
puts the sections together, the way config.urls mounts the apps' URLs.
"""

from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import views as sitemap_views
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from core.sitemaps import ShopSitemap
from pages.sitemaps import PageSitemap
from shop.sitemaps import ProductSitemap

FAVICON = Path(settings.BASE_DIR) / "static" / "favicon.ico"
ONE_DAY = 24 * 60 * 60


class StorefrontSitemap(ShopSitemap):
    """The storefront's fixed pages."""

    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["shop:catalog"]

    def location(self, item):
        return reverse(item)


SITEMAPS = {"storefront": StorefrontSitemap, "products": ProductSitemap, "pages": PageSitemap}


@cache_control(public=True, max_age=60 * 60)
def sitemap_index(request):
    response = sitemap_views.index(request, SITEMAPS, sitemap_url_name="sitemap-section")
    # Django names the sections on the request's host; the shop's address is in settings.
    for item in response.context_data["sitemaps"]:
        _, _, path, query, _ = urlsplit(item.location)
        item.location = f"{settings.SHOP_BASE_URL}{path}{'?' + query if query else ''}"
    return response


@cache_control(public=True, max_age=60 * 60)
def sitemap_section(request, section):
    return sitemap_views.sitemap(request, SITEMAPS, section=section)


def disallowed_paths() -> list[str]:
    """Pages that are private or a step of a purchase: nothing a search result should
    link to (they answer a login page or an empty cart to a crawler anyway)."""
    return [
        reverse("admin:index"),
        "/api/",
        reverse("shop:cart"),
        reverse("shop:checkout"),
        reverse("orders:list"),
        "/accounts/",
    ]


@require_GET
@cache_control(public=True, max_age=ONE_DAY)
def robots_txt(request):
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in disallowed_paths()]
    lines += ["", f"Sitemap: {settings.SHOP_BASE_URL}{reverse('sitemap')}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_GET
@cache_control(public=True, max_age=ONE_DAY)
def favicon(request):
    """Browsers ask /favicon.ico whatever the page's <link rel="icon"> says."""
    return FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
