"""The payment pages of orders, mounted by config.urls among the order pages
(`orders:pay`, /orders/<id>/pay/, and `orders:pay-return` where the browser lands after
confirming a payment)."""

from django.urls import path

from payments import views

order_payment_patterns = [
    path("<uuid:pk>/pay/", views.order_pay, name="pay"),
    path("<uuid:pk>/pay/return/", views.order_pay_return, name="pay-return"),
]
