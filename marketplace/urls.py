"""The merchant pages, mounted by config.urls under /merchant/ in the "merchant" namespace."""

from django.urls import path

from marketplace import views

merchant_patterns = [
    path("", views.home, name="home"),
    path("apply/", views.apply, name="apply"),
    path("products/new/", views.product_create, name="product-create"),
    path("products/new-with-options/", views.parent_create, name="parent-create"),
    path("products/<int:pk>/", views.product_edit, name="product-edit"),
    path("products/<int:pk>/adjust/", views.product_adjust, name="product-adjust"),
    path("products/<int:pk>/variants/", views.variant_create, name="variant-create"),
    path("sales/", views.sales, name="sales"),
]
