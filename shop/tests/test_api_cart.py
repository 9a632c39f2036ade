"""Cart endpoints: a customer's own cart only; quantities validated by the cart service."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.tests.helpers import api, client_for
from shop.models import CartItem
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_put_get_and_remove_items():
    user = UserFactory()
    client = client_for(user)
    mug = ProductFactory(name="Mug", price=Decimal("4.50"))
    pot = ProductFactory(name="Pot", price=Decimal("20.00"))
    assert client.get(api("cart")).json() == {"items": [], "subtotal": "0.00", "currency": "usd"}

    assert (
        client.put(api(f"cart/items/{mug.pk}"), {"quantity": 2}, format="json").status_code == 200
    )
    response = client.put(api(f"cart/items/{pot.pk}"), {"quantity": 1}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "product_id": mug.pk,
                "sku": mug.sku,
                "name": "Mug",
                "unit_price": "4.50",
                "quantity": 2,
                "line_total": "9.00",
            },
            {
                "product_id": pot.pk,
                "sku": pot.sku,
                "name": "Pot",
                "unit_price": "20.00",
                "quantity": 1,
                "line_total": "20.00",
            },
        ],
        "subtotal": "29.00",
        "currency": "usd",
    }
    zero = client.put(api(f"cart/items/{pot.pk}"), {"quantity": 0}, format="json")
    assert [i["product_id"] for i in zero.json()["items"]] == [mug.pk]
    removed = client.delete(api(f"cart/items/{mug.pk}"))
    assert removed.status_code == 200
    assert removed.json()["items"] == []


def test_delete_cart_empties_it():
    user = UserFactory()
    client = client_for(user)
    client.put(api(f"cart/items/{ProductFactory().pk}"), {"quantity": 3}, format="json")
    response = client.delete(api("cart"))
    assert response.status_code == 204
    assert not CartItem.objects.filter(cart__user=user).exists()


@pytest.mark.parametrize(
    "payload",
    [{"quantity": -1}, {"quantity": 1001}, {"quantity": "x"}, {}, {"quantity": 1, "price": "0.01"}],
)
def test_put_rejects_bad_quantities_and_unknown_fields(payload):
    user = UserFactory()
    product = ProductFactory()
    response = client_for(user).put(api(f"cart/items/{product.pk}"), payload, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not CartItem.objects.exists()


def test_put_unknown_or_inactive_product_is_400():
    client = client_for(UserFactory())
    response = client.put(api("cart/items/999999"), {"quantity": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cart"
    inactive = ProductFactory(is_active=False)
    response = client.put(api(f"cart/items/{inactive.pk}"), {"quantity": 1}, format="json")
    assert response.status_code == 400
    assert not CartItem.objects.exists()


def test_carts_are_private_and_need_authentication():
    a, b = UserFactory(), UserFactory()
    product = ProductFactory()
    client_for(a).put(api(f"cart/items/{product.pk}"), {"quantity": 2}, format="json")
    assert client_for(b).get(api("cart")).json()["items"] == []
    assert client_for(b).delete(api("cart")).status_code == 204
    assert client_for(b).delete(api(f"cart/items/{product.pk}")).status_code == 200
    assert CartItem.objects.get(cart__user=a).quantity == 2
    anonymous = APIClient()
    assert anonymous.get(api("cart")).status_code == 401
    assert (
        anonymous.put(api(f"cart/items/{product.pk}"), {"quantity": 1}, format="json").status_code
        == 401
    )
    assert anonymous.delete(api(f"cart/items/{product.pk}")).status_code == 401
    assert anonymous.delete(api("cart")).status_code == 401
    assert CartItem.objects.get(cart__user=a).quantity == 2


def test_cart_query_count_is_flat(django_assert_max_num_queries):
    user = UserFactory()
    client = client_for(user)
    for product in ProductFactory.create_batch(2):
        client.put(api(f"cart/items/{product.pk}"), {"quantity": 1}, format="json")
    with django_assert_max_num_queries(4):
        assert len(client.get(api("cart")).json()["items"]) == 2
    for product in ProductFactory.create_batch(10):
        client.put(api(f"cart/items/{product.pk}"), {"quantity": 1}, format="json")
    with django_assert_max_num_queries(4):
        assert len(client.get(api("cart")).json()["items"]) == 12
