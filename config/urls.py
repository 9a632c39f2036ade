"""The site's URLs. Each app lists its pages; this module mounts them.

URL namespaces are sections of the site, not code owners: the storefront ("shop")
includes the checkout page orders provides, and the order pages ("orders") include
the payment page payments provides, and the wallet pages ("wallet") the top-up pages
of payments, so no app imports another's views.
"""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from config import seo
from config.dashboard import dashboard
from config.views import healthz, metrics, readyz
from marketplace.urls import merchant_patterns
from orders.urls import checkout_patterns, order_patterns
from payments.urls import deposit_payment_patterns, order_payment_patterns
from payments.views import stripe_webhook
from shop.urls import account_patterns, storefront_patterns
from wallets.urls import wallet_patterns

urlpatterns = [
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("robots.txt", seo.robots_txt, name="robots-txt"),
    path("favicon.ico", seo.favicon, name="favicon"),
    path("sitemap.xml", seo.sitemap_index, name="sitemap"),
    path("sitemap-<section>.xml", seo.sitemap_section, name="sitemap-section"),
    path("api/", include("config.api_urls")),
    path("", include((storefront_patterns + checkout_patterns, "shop"))),
    path("accounts/", include(account_patterns)),
    path("orders/", include((order_patterns + order_payment_patterns, "orders"))),
    path("wallet/", include((wallet_patterns + deposit_payment_patterns, "wallet"))),
    path("merchant/", include((merchant_patterns, "merchant"))),
    path("pages/", include("pages.urls")),
    # The language switcher posts here (Django's set_language: a cookie, then back).
    path("i18n/", include("django.conf.urls.i18n")),
]
# Uploaded media from MEDIA_ROOT, by the development server only (DEBUG; static() adds
# nothing otherwise): production serves them from the bucket (MEDIA_BUCKET).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Errors outside DRF's views: JSON under /api/, pages elsewhere, 503 for outages.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
