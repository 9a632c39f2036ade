"""What every page's head and footer need: the shop's name and contact address from
settings, the page's canonical URL and the default Open Graph image.

Absolute URLs are built on SHOP_BASE_URL, never on the request's Host header, so a
page reached through another host name (a load balancer's, an IP) still names the
shop's one address to search engines.
"""

from django.conf import settings
from django.templatetags.static import static


def canonical_url(request) -> str:
    """The page's address without its query string, except the catalog page number:
    page 2 of a list is its own page, a search or a tracking parameter is not."""
    url = f"{settings.SHOP_BASE_URL}{request.path}"
    page = request.GET.get("page", "")
    if page.isdigit() and int(page) > 1:
        url += f"?page={int(page)}"
    return url


def absolute(url: str) -> str:
    """`url` on SHOP_BASE_URL, unless it is absolute already (static files on a CDN)."""
    return url if "://" in url else f"{settings.SHOP_BASE_URL}{url}"


def site(request):
    return {
        "shop_name": settings.SHOP_NAME,
        "shop_contact_email": settings.SHOP_CONTACT_EMAIL,
        "canonical_url": canonical_url(request),
        "og_default_image": absolute(static("img/og-default.png")),
    }
