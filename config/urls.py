from django.contrib import admin
from django.urls import include, path

from config.dashboard import dashboard
from config.views import healthz, metrics, readyz
from payments.views import stripe_webhook

urlpatterns = [
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("api/", include("config.api_urls")),
    path("", include("shop.urls")),
    path("orders/", include("orders.urls")),
]
