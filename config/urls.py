from django.contrib import admin
from django.urls import include, path

from config.views import healthz
from payments.views import stripe_webhook

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("api/", include("config.api_urls")),
    path("", include("shop.urls")),
    path("orders/", include("orders.urls")),
]
