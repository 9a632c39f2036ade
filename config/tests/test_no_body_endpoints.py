"""POSTs that take no body (cancel, approve, reject) refuse a body with any field, as
every endpoint refuses unknown fields (API.md), and change nothing; without one they act."""

from decimal import Decimal

import pytest

from core.tests.helpers import api, client_for
from merchants.models import Merchant
from merchants.tests.factories import make_merchant
from orders.models import Order
from orders.tests.factories import make_order
from shop.tests.factories import StaffFactory, UserFactory
from wallets import services as wallet_services
from wallets.models import Withdrawal
from wallets.tests.helpers import fund

pytestmark = pytest.mark.django_db


def pending_withdrawal():
    owner = UserFactory()
    fund(owner, "10.00")
    return wallet_services.request_withdrawal(user=owner, amount=Decimal("5.00"))


@pytest.mark.parametrize(
    ("make", "path", "status_of", "done"),
    [
        (
            lambda: make_order(status=Order.Status.CREATED),
            "orders/{pk}/cancel",
            lambda pk: Order.objects.get(pk=pk).status,
            "cancelled",
        ),
        (
            pending_withdrawal,
            "wallet/withdrawals/{pk}/approve",
            lambda pk: Withdrawal.objects.get(pk=pk).status,
            "paid",
        ),
        (
            pending_withdrawal,
            "wallet/withdrawals/{pk}/reject",
            lambda pk: Withdrawal.objects.get(pk=pk).status,
            "rejected",
        ),
        (
            lambda: make_merchant(approved=False),
            "merchants/{pk}/approve",
            lambda pk: Merchant.objects.get(pk=pk).status,
            "approved",
        ),
    ],
)
def test_a_body_is_refused_and_changes_nothing(make, path, status_of, done):
    obj = make()
    url = api(path.format(pk=obj.pk))
    staff = client_for(StaffFactory(is_superuser=True))
    before = status_of(obj.pk)

    refused = staff.post(url, {"reason": "x"}, format="json")
    not_an_object = staff.post(url, "x", format="json")

    assert (refused.status_code, not_an_object.status_code) == (400, 400)
    assert refused.json()["code"] == "invalid"
    assert refused.json()["errors"] == {"reason": ["Unknown field."]}
    assert status_of(obj.pk) == before
    assert staff.post(url, format="json").status_code == 200
    assert status_of(obj.pk) == done


def test_without_credentials_it_is_still_401_first():
    order = make_order(status=Order.Status.CREATED)
    response = client_for(None).post(api(f"orders/{order.pk}/cancel"), {"zz": 1}, format="json")
    assert response.status_code == 401
