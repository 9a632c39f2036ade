"""Forgetting a staff permission is impossible: these tests walk every registered ModelAdmin
and every API route, so a new admin action or API write that does not declare the Django
model permission it needs fails here (issue 13, API.md "Staff permissions").

- Admin: every action declares `permissions=[...]`, each with its `has_<name>_permission`
  check, and a member of staff who may only view a model is offered none of its actions.
- API: every unsafe method of every route either declares `core.api.StaffWithPermission`
  (staff only) or is listed below as a customer's or anyone's own write. Each declared
  permission exists, guards exactly that operation (staff holding every permission but
  that one get 403 `permission_denied` and nothing changes) and lets its holder through.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, reverse
from django.urls.converters import IntConverter, UUIDConverter
from rest_framework.request import Request
from rest_framework.test import APIClient

from audit.models import AuditEvent
from config import api_urls
from config.errors import not_found
from core.api import StaffWithPermission
from core.tests.helpers import client_for, grant
from orders.models import Order
from orders.tests.factories import make_order
from payments.models import Refund
from shop.models import Inventory, Product
from shop.tests.factories import ProductFactory, StaffFactory

UNSAFE = ("post", "put", "patch", "delete")

# Writes that are not staff operations, by route name and method, and whose they are.
NOT_STAFF_WRITES = {
    ("auth-register", "post"): "anyone: signs up",
    ("auth-token", "post"): "anyone: signs in",
    ("auth-token-refresh", "post"): "the holder of a refresh token",
    ("auth-logout", "post"): "the user: their own refresh token",
    ("cart", "delete"): "the user: their own cart",
    ("cart-item", "put"): "the user: their own cart",
    ("cart-item", "delete"): "the user: their own cart",
    ("checkout", "post"): "the user: their own order",
    ("quote", "post"): "the user: prices their own order, changes nothing",
    ("addresses", "post"): "the user: their own address book",
    ("address", "patch"): "the owner of the address only",
    ("address", "delete"): "the owner of the address only",
    ("order-pay", "post"): "the owner of the order only",
    ("wallet-deposits", "post"): "the user: into their own wallet",
    ("wallet-withdrawals", "post"): "the user: from their own wallet",
    ("merchants", "post"): "the user: applies to sell",
    ("merchant-products", "post"): "an approved merchant: their own product",
    ("merchant-product", "patch"): "the merchant owning the product",
    ("merchant-product-adjust", "post"): "the merchant owning the product",
}


# --- admin ---------------------------------------------------------------------------------


def _admins():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


ADMINS = pytest.mark.parametrize(
    ("model", "model_admin"), _admins(), ids=[model._meta.label for model, _ in _admins()]
)


def _admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _view_only_staff(model):
    opts = model._meta
    return grant(StaffFactory(), f"{opts.app_label}.view_{opts.model_name}")


@pytest.mark.django_db
@ADMINS
def test_every_admin_action_declares_the_permissions_it_needs(model, model_admin):
    # A superuser is offered every action whose checks can pass at all.
    request = _admin_request(StaffFactory(is_superuser=True))
    for name, (func, _, _) in model_admin.get_actions(request).items():
        permissions = getattr(func, "allowed_permissions", ())
        assert permissions, f"{model._meta.label}: action {name!r} declares no permissions="
        for permission in permissions:
            check = getattr(model_admin, f"has_{permission}_permission", None)
            assert callable(check), f"{model._meta.label}: no has_{permission}_permission"


@pytest.mark.django_db
@ADMINS
def test_a_member_who_may_only_view_is_offered_no_admin_action(model, model_admin):
    request = _admin_request(_view_only_staff(model))
    assert model_admin.has_view_permission(request)
    assert model_admin.get_actions(request) == {}


@pytest.mark.django_db
def test_the_admin_actions_need_the_permissions_api_md_names():
    expected = {
        "payments.Payment": {"refund": "payments.add_refund"},
        "shop.Product": {"restock": "shop.change_inventory"},
        "payments.WebhookEvent": {"replay": "payments.change_webhookevent"},
        "wallets.Wallet": {
            "lock_selected": "wallets.change_wallet",
            "unlock_selected": "wallets.change_wallet",
            "adjust_selected": "wallets.adjust_balance",
        },
        "merchants.Merchant": {"approve_selected": "merchants.change_merchant"},
        "wallets.Withdrawal": {
            "approve_selected": "wallets.change_withdrawal",
            "reject_selected": "wallets.change_withdrawal",
        },
    }
    for label, actions in expected.items():
        model_admin = next(ma for m, ma in _admins() if m._meta.label == label)
        for name, permission in actions.items():
            holder = _admin_request(grant(StaffFactory(), permission))
            assert name in model_admin.get_actions(holder), (label, name)
            others = Permission.objects.exclude(pk=_permission(permission).pk)
            everything_else = StaffFactory()
            everything_else.user_permissions.add(*others)
            refused = _admin_request(type(everything_else).objects.get(pk=everything_else.pk))
            assert name not in model_admin.get_actions(refused), (label, name)


# --- API -----------------------------------------------------------------------------------


def _routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _api_writes():
    """(route name, method, pattern) for every unsafe method an API view implements."""
    writes = []
    for path, pattern in _routes(api_urls.urlpatterns):
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is None:
            # Only the JSON 404 is not a DRF view; it answers every method and changes nothing.
            assert pattern.callback is not_found, f"{path}: not a DRF view"
            continue
        for method in UNSAFE:
            if hasattr(view_class, method):
                writes.append((pattern.name, method, pattern))
    return writes


def _permissions_of(pattern, method) -> list:
    view_class = pattern.callback.cls
    view = view_class(**pattern.callback.initkwargs)
    view.request = Request(getattr(RequestFactory(), method)("/"))
    view.format_kwarg = None
    return view.get_permissions()


def _declared(pattern, method) -> list[StaffWithPermission]:
    return [p for p in _permissions_of(pattern, method) if isinstance(p, StaffWithPermission)]


def _permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


STAFF_WRITES = [w for w in _api_writes() if (w[0], w[1]) not in NOT_STAFF_WRITES]


def test_every_api_write_is_a_declared_staff_operation_or_listed_as_not_one():
    writes = {(name, method) for name, method, _ in _api_writes()}
    assert set(NOT_STAFF_WRITES) <= writes, "a listed write no longer exists"
    undeclared = [
        f"{method.upper()} {name}"
        for name, method, pattern in STAFF_WRITES
        if len(_declared(pattern, method)) != 1
    ]
    assert undeclared == [], "API writes without one StaffWithPermission"


def test_the_api_staff_operations_need_the_permissions_api_md_names():
    declared = {
        (name, method): _declared(pattern, method)[0].permission
        for name, method, pattern in STAFF_WRITES
    }
    assert declared == {
        ("products", "post"): "shop.add_product",
        ("product", "patch"): "shop.change_product",
        ("inventory-adjust", "post"): "shop.change_inventory",
        ("order-cancel", "post"): "orders.change_order",
        ("order-fulfil", "post"): "orders.change_order",
        ("order-refund", "post"): "payments.add_refund",
        ("shipping-methods", "post"): "pricing.add_shippingmethod",
        ("tax-rates", "post"): "pricing.add_taxrate",
        ("coupons", "post"): "pricing.add_coupon",
        ("wallet-withdrawal-approve", "post"): "wallets.change_withdrawal",
        ("wallet-withdrawal-reject", "post"): "wallets.change_withdrawal",
        ("merchant-approve", "post"): "merchants.change_merchant",
    }


def _url(pattern, product, order) -> str:
    kwargs = {}
    for name, converter in pattern.pattern.converters.items():
        if isinstance(converter, IntConverter):
            kwargs[name] = product.pk
        elif isinstance(converter, UUIDConverter):
            kwargs[name] = order.pk
        else:
            raise AssertionError(f"{pattern.name}: no test value for <{name}>")
    return reverse(f"api:{pattern.name}", kwargs=kwargs)


def _state() -> tuple:
    """What any staff operation would change: stock, products, orders, refunds, the audit log."""
    return (
        list(Product.objects.order_by("pk").values_list("name", "price", "is_active")),
        list(Inventory.objects.order_by("pk").values_list("available", "reserved", "received")),
        list(Order.objects.order_by("pk").values_list("status", flat=True)),
        Product.objects.count(),
        Refund.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "method", "pattern"),
    STAFF_WRITES,
    ids=[f"{method.upper()} {name}" for name, method, _ in STAFF_WRITES],
)
def test_each_api_staff_operation_is_refused_without_its_permission(name, method, pattern):
    product = ProductFactory(stock=5)
    order = make_order(lines=[(product.pk, 1)])  # another customer's
    url = _url(pattern, product, order)
    permission = _declared(pattern, method)[0].permission
    body = {"name": "Renamed", "delta": 1, "reason": "x"} if method != "delete" else None
    before = _state()

    assert getattr(APIClient(), method)(url, body, format="json").status_code == 401
    # Staff holding every other permission there is: only the named one opens it.
    staff = StaffFactory()
    staff.user_permissions.add(*Permission.objects.exclude(pk=_permission(permission).pk))
    response = getattr(client_for(staff), method)(url, body, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You do not have permission to perform this action.",
        "code": "permission_denied",
    }
    assert _state() == before

    holder = StaffFactory(permissions=[permission])
    response = getattr(client_for(holder), method)(url, body, format="json")
    assert response.status_code not in (401, 403), response.content
