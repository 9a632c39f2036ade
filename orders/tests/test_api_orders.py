"""Order endpoints: reading orders, cancel and fulfil, the permission matrix (anonymous,
owner A, customer B, staff) and the methods they refuse."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from core.tests.helpers import api, client_for
from orders.models import Order
from orders.tests.factories import make_order
from shop.models import Inventory
from shop.tests.clients import ANON, OTHER, OWNER, STAFF, VIEWER, client_as
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Order.Status


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def _stock(product):
    row = Inventory.objects.get(pk=product.pk)
    return row.available, row.reserved


# --- reading orders -------------------------------------------------------------------------


def test_list_own_orders_newest_first_and_staff_see_all_with_status_filter():
    a, b = UserFactory(), UserFactory()
    a_old = make_order(user=a)
    a_new = make_order(user=a, status=S.CANCELLED)
    b_order = make_order(user=b)
    ids = [o["id"] for o in client_for(a).get(api("orders")).json()["results"]]
    assert ids == [str(a_new.pk), str(a_old.pk)]
    staff = client_for(StaffFactory())
    everything = staff.get(api("orders")).json()
    assert everything["count"] == 3
    assert {o["id"] for o in everything["results"]} == {
        str(a_old.pk),
        str(a_new.pk),
        str(b_order.pk),
    }
    cancelled = staff.get(api("orders?status=cancelled")).json()["results"]
    assert [o["id"] for o in cancelled] == [str(a_new.pk)]
    bad = staff.get(api("orders?status=bogus"))
    assert bad.status_code == 400
    assert "status" in bad.json()["errors"]
    assert APIClient().get(api("orders")).status_code == 401


# --- the permission matrix -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"), [(ANON, 401), (OWNER, 200), (OTHER, 404), (STAFF, 200)]
)
def test_matrix_retrieve(who, expected):
    owner = UserFactory()
    order = make_order(user=owner)
    response = client_as(who, owner).get(api(f"orders/{order.pk}"))
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["id"] == str(order.pk)
    else:
        assert str(order.pk) not in response.content.decode()


@pytest.mark.parametrize(
    ("who", "expected", "status"),
    [
        (ANON, 401, S.CREATED),
        (OWNER, 200, S.CANCELLED),
        (OTHER, 404, S.CREATED),
        (STAFF, 200, S.CANCELLED),
        (VIEWER, 403, S.CREATED),
    ],
)
def test_matrix_cancel(who, expected, status):
    owner = UserFactory()
    product = ProductFactory(stock=5)
    order = make_order(user=owner, lines=[(product.pk, 2)])
    response = client_as(who, owner).post(api(f"orders/{order.pk}/cancel"))
    assert response.status_code == expected
    if expected == 403:
        assert response.json()["code"] == "permission_denied"
    order.refresh_from_db()
    assert order.status == status
    assert _stock(product) == ((5, 0) if status == S.CANCELLED else (3, 2))


def test_cancel_a_paid_order_is_409_invalid_transition():
    owner = UserFactory()
    order = make_order(user=owner, status=S.PAID)
    response = client_for(owner).post(api(f"orders/{order.pk}/cancel"))
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    order.refresh_from_db()
    assert order.status == S.PAID


@pytest.mark.parametrize(
    ("who", "expected", "status"),
    [
        (ANON, 401, S.PAID),
        (OWNER, 403, S.PAID),
        (OTHER, 403, S.PAID),
        (STAFF, 200, S.FULFILLED),
        (VIEWER, 403, S.PAID),
    ],
)
def test_matrix_fulfil(who, expected, status):
    owner = UserFactory()
    order = make_order(user=owner, status=S.PAID)
    response = client_as(who, owner).post(api(f"orders/{order.pk}/fulfil"))
    assert response.status_code == expected
    if expected == 403:
        assert response.json()["code"] == "permission_denied"
    if expected == 200:
        assert response.json()["status"] == "fulfilled"
    order.refresh_from_db()
    assert order.status == status


def test_staff_cancel_their_own_order_without_the_permission():
    staff = StaffFactory(permissions=["orders.view_order"])
    order = make_order(user=staff)
    response = client_for(staff).post(api(f"orders/{order.pk}/cancel"))
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_fulfil_an_unpaid_order_is_409_and_an_unknown_one_404():
    staff = client_for(StaffFactory(permissions=["orders.change_order"]))
    order = make_order()
    response = staff.post(api(f"orders/{order.pk}/fulfil"))
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    missing = staff.post(api("orders/00000000-0000-0000-0000-000000000000/fulfil"))
    assert missing.status_code == 404
    assert staff.post(api("orders/not-a-uuid/fulfil")).json()["code"] == "not_found"


def test_matrix_list_leaks_nothing():
    owner, other = UserFactory(), UserFactory()
    order = make_order(user=owner)
    assert client_for(other).get(api("orders")).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    # ?status= does not widen a customer's view.
    assert client_for(other).get(api("orders?status=created")).json()["count"] == 0
    assert client_for(owner).get(api("orders")).json()["results"][0]["id"] == str(order.pk)


def test_order_endpoints_reject_other_methods():
    owner = UserFactory()
    order = make_order(user=owner)
    client = client_for(owner)
    assert client.delete(api(f"orders/{order.pk}")).status_code == 405
    assert (
        client.patch(api(f"orders/{order.pk}"), {"status": "paid"}, format="json").status_code
        == 405
    )
    assert client.get(api(f"orders/{order.pk}/cancel")).status_code == 405
    order.refresh_from_db()
    assert order.status == S.CREATED
