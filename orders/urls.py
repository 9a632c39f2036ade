"""The order pages, mounted by config.urls under /orders/ in the "orders" namespace
(beside the payment page payments adds there), and the checkout page, mounted among
the storefront's pages (`shop:checkout`, /checkout/)."""

from django.urls import path

from orders import checkout_pages, views

checkout_patterns = [
    path("checkout/", checkout_pages.checkout, name="checkout"),
    path("checkout/guest/", checkout_pages.guest_step, name="checkout-guest"),
    path("checkout/address/", checkout_pages.address_step, name="checkout-address"),
    path("checkout/shipping/", checkout_pages.shipping_step, name="checkout-shipping"),
    path("checkout/review/", checkout_pages.review_step, name="checkout-review"),
    path("checkout/coupon/", checkout_pages.coupon_step, name="checkout-coupon"),
]

order_patterns = [
    path("", views.order_list, name="list"),
    path("<uuid:pk>/", views.order_detail, name="detail"),
    path("<uuid:pk>/status.json", views.order_status, name="status"),
    path("<uuid:pk>/thank-you/", views.order_confirmation, name="confirmation"),
    path("<uuid:pk>/cancel/", views.order_cancel, name="cancel"),
    path("<uuid:pk>/buy-again/", views.order_buy_again, name="buy-again"),
    path("<uuid:pk>/account/", views.order_complete_account, name="complete-account"),
    path("<uuid:pk>/account-link/", views.order_account_link, name="account-link"),
    path("account/<str:token>/", views.guest_account, name="guest-account"),
    path("link/<str:token>/", views.order_link, name="link"),
]
