"""The merchant API (API.md "Merchants"): an approved merchant's own products, stock and
sales; 403 for anyone else signed in, 404 for another merchant's product."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from audit.models import AuditEvent
from core.tests.helpers import api, client_for
from merchants.tests.factories import make_merchant
from orders.models import Order
from orders.tests.factories import make_order
from shop.models import Product
from shop.tests.factories import ProductFactory, UserFactory
from shop.tests.test_api_catalog import STANDALONE

pytestmark = pytest.mark.django_db

NEW = {"sku": "POT-1", "name": "Teapot", "price": "24.50", "initial_stock": 4}
ROUTES = [
    ("get", "merchant/products", None),
    ("post", "merchant/products", NEW),
    ("patch", "merchant/products/{pk}", {"name": "X"}),
    ("post", "merchant/products/{pk}/adjust", {"delta": 1, "reason": "count"}),
    ("get", "merchant/sales", None),
]


def _merchant_client(**kwargs):
    merchant = make_merchant(user=UserFactory(), **kwargs)
    return merchant, client_for(merchant.user)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_only_approved_merchants_get_in(method, path, body):
    product = ProductFactory(merchant=make_merchant())
    url = api(path.format(pk=product.pk))
    before = list(Product.objects.values_list("name", "inventory__available"))

    assert getattr(client_for(), method)(url, body, format="json").status_code == 401
    pending = make_merchant(user=UserFactory(), approved=False)
    for user in (UserFactory(), pending.user):
        response = getattr(client_for(user), method)(url, body, format="json")
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only approved merchants can do this.",
            "code": "not_a_merchant",
        }
    assert list(Product.objects.values_list("name", "inventory__available")) == before


def test_a_merchant_creates_a_product_of_their_own():
    merchant, client = _merchant_client(display_name="Ann's Pottery")
    response = client.post(api("merchant/products"), NEW, format="json")

    assert response.status_code == 201
    product = Product.objects.get(sku="POT-1")
    assert product.merchant == merchant
    assert response.json() == {
        "id": product.pk,
        "sku": "POT-1",
        "name": "Teapot",
        "description": "",
        "price": "24.50",
        "currency": "usd",
        "available": 4,
        "requires_shipping": True,
        "merchant": {"id": merchant.pk, "display_name": "Ann's Pottery"},
        "images": [],
        **STANDALONE,
        "reserved": 0,
    }
    created = AuditEvent.objects.get(action="product.created", entity_id=str(product.pk))
    assert created.actor == merchant.user
    assert created.after["merchant"] == merchant.pk
    restocked = AuditEvent.objects.get(action="inventory.restocked", entity_id=str(product.pk))
    assert restocked.actor == merchant.user
    # The same rules as staff's: a taken SKU, unknown fields.
    assert client.post(api("merchant/products"), NEW, format="json").status_code == 400
    bad = client.post(api("merchant/products"), {**NEW, "sku": "B", "merchant": 1}, format="json")
    assert bad.status_code == 400
    assert Product.objects.count() == 1


def test_a_merchant_lists_only_their_products_with_reserved(django_assert_max_num_queries):
    merchant, client = _merchant_client()
    mine = ProductFactory(merchant=merchant, stock=5, name="A")
    hidden = ProductFactory(merchant=merchant, stock=1, name="B", is_active=False)
    ProductFactory(merchant=make_merchant())
    ProductFactory()  # the shop's
    make_order(lines=[(mine.pk, 2)])  # reserves 2

    body = client.get(api("merchant/products")).json()
    assert [(p["id"], p["available"], p["reserved"]) for p in body["results"]] == [
        (mine.pk, 3, 2),
        (hidden.pk, 1, 0),
    ]
    ProductFactory.create_batch(8, merchant=merchant)
    cache.clear()
    # user, merchant, count, page, its images, its variants
    with django_assert_max_num_queries(6):
        assert client.get(api("merchant/products")).json()["count"] == 10


def test_a_merchant_changes_their_product_and_never_anothers():
    merchant, client = _merchant_client()
    mine = ProductFactory(merchant=merchant, price=Decimal("5.00"))
    others = ProductFactory(merchant=make_merchant(), name="Theirs")
    shops = ProductFactory(name="The shop's")

    response = client.patch(
        api(f"merchant/products/{mine.pk}"), {"price": "6.00", "is_active": False}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["price"], response.json()["reserved"]) == ("6.00", 0)
    mine.refresh_from_db()
    assert (mine.price, mine.is_active) == (Decimal("6.00"), False)
    assert AuditEvent.objects.get(action="product.updated").actor == merchant.user

    for product in (others, shops):
        url = api(f"merchant/products/{product.pk}")
        assert client.patch(url, {"name": "Mine now"}, format="json").status_code == 404
        assert (
            client.post(f"{url}/adjust", {"delta": 5, "reason": "x"}, format="json").status_code
            == 404
        )
    assert list(
        Product.objects.filter(pk__in=[others.pk, shops.pk])
        .values_list("name", flat=True)
        .order_by("pk")
    ) == [
        "Theirs",
        "The shop's",
    ]
    assert (
        client.patch(api(f"merchant/products/{mine.pk}"), {"sku": "X"}, format="json").status_code
        == 400
    )


def test_a_merchant_adjusts_their_stock_through_the_inventory_service():
    merchant, client = _merchant_client()
    product = ProductFactory(merchant=merchant, stock=3)
    url = api(f"merchant/products/{product.pk}/adjust")

    response = client.post(url, {"delta": -2, "reason": "broken"}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "product_id": product.pk,
        "sku": product.sku,
        "available": 1,
        "reserved": 0,
    }
    event = AuditEvent.objects.get(action="inventory.adjusted")
    assert (event.actor, event.entity_id) == (merchant.user, str(product.pk))

    short = client.post(url, {"delta": -2, "reason": "lost"}, format="json")
    assert short.status_code == 409
    assert short.json()["code"] == "insufficient_stock"
    product.inventory.refresh_from_db()
    assert (product.inventory.available, product.inventory.received) == (1, 1)
    assert client.post(url, {"delta": 0, "reason": "x"}, format="json").status_code == 400


def test_sales_list_the_lines_of_paid_orders_with_fee_and_net(
    settings, django_assert_max_num_queries
):
    settings.MARKETPLACE_FEE_PERCENT = Decimal("10")
    merchant, client = _merchant_client()
    pot = ProductFactory(merchant=merchant, price=Decimal("10.05"), stock=50)
    cup = ProductFactory(merchant=merchant, price=Decimal("3.35"), stock=50)
    theirs = ProductFactory(merchant=make_merchant(), stock=50)
    shops = ProductFactory(stock=50)
    paid = make_order(
        lines=[(pot.pk, 1), (cup.pk, 1), (theirs.pk, 1), (shops.pk, 1)], status=Order.Status.PAID
    )
    make_order(lines=[(pot.pk, 1)], status=Order.Status.PAYMENT_PENDING)  # not a sale yet
    make_order(lines=[(cup.pk, 1)], status=Order.Status.CANCELLED)

    body = client.get(api("merchant/sales")).json()
    rows = sorted(body["results"], key=lambda row: row["sku"] != pot.sku)
    assert body["count"] == 2
    # Lines 10.05 + 3.35 = 13.40; fee 10 % = 1.34: 1.01 (10.05 rounded half up) + 0.33.
    assert [
        (r["product_id"], r["quantity"], r["line_total"], r["fee"], r["net"]) for r in rows
    ] == [
        (pot.pk, 1, "10.05", "1.01", "9.04"),
        (cup.pk, 1, "3.35", "0.33", "3.02"),
    ]
    assert {r["order_id"] for r in rows} == {str(paid.pk)}
    assert {r["order_status"] for r in rows} == {"paid"}
    assert set(rows[0]) == {
        "order_id",
        "order_status",
        "product_id",
        "sku",
        "quantity",
        "unit_price",
        "line_total",
        "fee",
        "net",
        "created_at",
    }
    for _ in range(5):
        make_order(lines=[(pot.pk, 1)], status=Order.Status.FULFILLED)
    with django_assert_max_num_queries(6):
        assert client.get(api("merchant/sales")).json()["count"] == 7
