"""The catalog's entries in sitemap.xml (wired by config.seo): every product for sale."""

from core.sitemaps import ShopSitemap
from shop import selectors


class ProductSitemap(ShopSitemap):
    changefreq = "daily"
    priority = 0.8
    limit = 5000  # one sitemap page per 5,000 products (the protocol allows 50,000)

    def items(self):
        return (
            selectors.products_for_sale()
            .select_related(None)
            .prefetch_related(None)
            .order_by("pk")
            .only("slug", "structure", "updated_at")  # what get_absolute_url reads
        )

    def lastmod(self, product):
        return product.updated_at
