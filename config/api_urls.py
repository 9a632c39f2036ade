"""Routes under /api/: the v1 API, its OpenAPI schema and the Swagger UI."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from audit import api as audit_api
from config.errors import not_found
from marketplace import api as marketplace_api
from merchants import api as merchants_api
from orders import api as orders_api
from payments import api as payments_api
from pricing import api as pricing_api
from shop import api as shop_api
from wallets import api as wallets_api

v1 = [
    # auth
    path("auth/register", shop_api.RegisterView.as_view(), name="auth-register"),
    path("auth/token", shop_api.LoginView.as_view(), name="auth-token"),
    path("auth/token/refresh", shop_api.RefreshView.as_view(), name="auth-token-refresh"),
    path("auth/logout", shop_api.LogoutView.as_view(), name="auth-logout"),
    path("auth/me", shop_api.MeView.as_view(), name="auth-me"),
    # catalog and stock
    path("categories", shop_api.CategoryListView.as_view(), name="categories"),
    path("products", shop_api.ProductListCreateView.as_view(), name="products"),
    path("products/<int:pk>", shop_api.ProductDetailView.as_view(), name="product"),
    path("inventory", shop_api.InventoryListView.as_view(), name="inventory"),
    path(
        "inventory/<int:product_id>/adjust",
        shop_api.InventoryAdjustView.as_view(),
        name="inventory-adjust",
    ),
    # cart
    path("cart", shop_api.CartView.as_view(), name="cart"),
    path("cart/items/<int:product_id>", shop_api.CartItemView.as_view(), name="cart-item"),
    # address book, shipping, tax, coupons
    path("addresses", shop_api.AddressListCreateView.as_view(), name="addresses"),
    path("addresses/<int:pk>", shop_api.AddressDetailView.as_view(), name="address"),
    path("shipping-methods", pricing_api.ShippingMethodsView.as_view(), name="shipping-methods"),
    path("tax-rates", pricing_api.TaxRateCreateView.as_view(), name="tax-rates"),
    path("coupons", pricing_api.CouponCreateView.as_view(), name="coupons"),
    # orders
    path("orders/checkout", orders_api.CheckoutView.as_view(), name="checkout"),
    path("orders/quote", orders_api.QuoteView.as_view(), name="quote"),
    path("orders", orders_api.OrderListView.as_view(), name="orders"),
    path("orders/<uuid:pk>", orders_api.OrderDetailView.as_view(), name="order"),
    path("orders/<uuid:pk>/pay", payments_api.OrderPayView.as_view(), name="order-pay"),
    path("orders/<uuid:pk>/cancel", orders_api.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<uuid:pk>/fulfil", orders_api.OrderFulfilView.as_view(), name="order-fulfil"),
    path("orders/<uuid:pk>/refund", payments_api.OrderRefundView.as_view(), name="order-refund"),
    # wallet
    path("wallet", wallets_api.WalletView.as_view(), name="wallet"),
    path("wallet/transactions", wallets_api.LedgerView.as_view(), name="wallet-transactions"),
    path("wallet/deposits", payments_api.DepositCreateView.as_view(), name="wallet-deposits"),
    path(
        "wallet/deposits/<uuid:pk>",
        payments_api.DepositDetailView.as_view(),
        name="wallet-deposit",
    ),
    path(
        "wallet/withdrawals",
        wallets_api.WithdrawalCreateView.as_view(),
        name="wallet-withdrawals",
    ),
    path(
        "wallet/withdrawals/<uuid:pk>/approve",
        wallets_api.WithdrawalApproveView.as_view(),
        name="wallet-withdrawal-approve",
    ),
    path(
        "wallet/withdrawals/<uuid:pk>/reject",
        wallets_api.WithdrawalRejectView.as_view(),
        name="wallet-withdrawal-reject",
    ),
    # merchants
    path("merchants", merchants_api.MerchantApplyView.as_view(), name="merchants"),
    path(
        "merchants/<int:pk>/approve",
        merchants_api.MerchantApproveView.as_view(),
        name="merchant-approve",
    ),
    path(
        "merchant/products",
        marketplace_api.MerchantProductListView.as_view(),
        name="merchant-products",
    ),
    path(
        "merchant/products/<int:pk>",
        marketplace_api.MerchantProductDetailView.as_view(),
        name="merchant-product",
    ),
    path(
        "merchant/products/<int:pk>/adjust",
        marketplace_api.MerchantProductAdjustView.as_view(),
        name="merchant-product-adjust",
    ),
    path("merchant/sales", marketplace_api.MerchantSalesView.as_view(), name="merchant-sales"),
    # audit
    path("audit", audit_api.AuditEventListView.as_view(), name="audit"),
]

app_name = "api"
urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/ (a malformed id, a newline in the path) is a JSON 404.
    re_path(r"^[\s\S]*$", not_found, name="not-found"),
]
