"""The base of every sitemap section: URLs on SHOP_BASE_URL.

Django's sitemaps take the domain from the sites framework or from the request's Host
header; the shop has one address in settings, the one canonical links use, so sitemap
entries and canonical links always agree.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap


class ShopSitemap(Sitemap):
    def get_protocol(self, protocol=None):
        return urlsplit(settings.SHOP_BASE_URL).scheme or "https"

    def get_domain(self, site=None):
        return urlsplit(settings.SHOP_BASE_URL).netloc
