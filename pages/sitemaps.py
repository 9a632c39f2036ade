"""The footer pages' entries in sitemap.xml (wired by config.seo): one URL per page,
whatever the number of languages it is written in (the visitor's language picks it)."""

from core.sitemaps import ShopSitemap
from pages.models import Page


class PageSitemap(ShopSitemap):
    changefreq = "monthly"
    priority = 0.3

    def items(self):
        return list(Page.objects.order_by("slug").values_list("slug", flat=True).distinct())

    def location(self, slug):
        return Page(slug=slug).get_absolute_url()
