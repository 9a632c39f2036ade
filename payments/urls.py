"""The payment pages of orders, mounted by config.urls among the order pages
(`orders:pay`, /orders/<id>/pay/)."""

from django.urls import path

from payments import views

order_payment_patterns = [
    path("<uuid:pk>/pay/", views.order_pay, name="pay"),
]
