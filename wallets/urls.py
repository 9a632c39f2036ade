"""The wallet pages, mounted by config.urls under /wallet/ in the "wallet" namespace
(beside the top-up pages payments adds there)."""

from django.urls import path

from wallets import views

wallet_patterns = [
    path("", views.wallet_overview, name="overview"),
    path("withdraw/", views.withdraw, name="withdraw"),
]
