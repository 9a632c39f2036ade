"""The payment pages, mounted by config.urls: an order's among the order pages
(`orders:pay`, /orders/<id>/pay/, paying from the wallet at `orders:pay-wallet`, and
`orders:pay-return` where the browser lands after confirming a payment), and a wallet
top-up's among the wallet pages (`wallet:top-up`, `wallet:deposit-pay`,
`wallet:deposit-return`)."""

from django.urls import path

from payments import views

order_payment_patterns = [
    path("<uuid:pk>/pay/", views.order_pay, name="pay"),
    path("<uuid:pk>/pay/wallet/", views.order_pay_wallet, name="pay-wallet"),
    path("<uuid:pk>/pay/return/", views.order_pay_return, name="pay-return"),
]

deposit_payment_patterns = [
    path("top-up/", views.top_up, name="top-up"),
    path("deposits/<uuid:pk>/pay/", views.deposit_pay, name="deposit-pay"),
    path("deposits/<uuid:pk>/pay/return/", views.deposit_pay_return, name="deposit-return"),
]
