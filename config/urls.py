"""The site's URLs. Each app lists its pages; this module mounts them.

URL namespaces are sections of the site, not code owners: the storefront ("shop")
includes the checkout page orders provides, and the order pages ("orders") include
the payment page payments provides, so no app imports another's views.
"""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from config.dashboard import dashboard
from config.views import healthz, metrics, readyz
from orders.urls import checkout_patterns, order_patterns
from payments.urls import order_payment_patterns
from payments.views import stripe_webhook
from shop.urls import account_patterns, storefront_patterns

urlpatterns = [
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("api/", include("config.api_urls")),
    path("", include((storefront_patterns + checkout_patterns, "shop"))),
    path("accounts/", include(account_patterns)),
    path("orders/", include((order_patterns + order_payment_patterns, "orders"))),
]
# Uploaded media from MEDIA_ROOT, by the development server only (DEBUG; static() adds
# nothing otherwise): production serves them from the bucket (MEDIA_BUCKET).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Errors outside DRF's views: JSON under /api/, pages elsewhere, 503 for outages.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
