"""The wallet API: the wallet and its ledger, withdrawals and staff's decisions on them;
who may do what (a customer reaches only their own wallet)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.tests.helpers import api, client_for
from shop.tests.factories import StaffFactory, UserFactory
from wallets import services
from wallets.models import LedgerEntry, Wallet, Withdrawal
from wallets.tests.helpers import balance, fund, treasurer

pytestmark = pytest.mark.django_db
D = Decimal


def test_a_wallet_never_used_reads_as_empty_and_is_not_created(settings):
    user = UserFactory()
    response = client_for(user).get(api("wallet"))
    assert response.status_code == 200
    assert response.json() == {
        "balance": "0.00",
        "currency": settings.SHOP_CURRENCY,
        "is_locked": False,
    }
    assert not Wallet.objects.filter(user=user).exists()
    assert APIClient().get(api("wallet")).status_code == 401


def test_the_wallet_and_its_ledger_newest_first_paginated():
    user = UserFactory()
    fund(user, "30.00")
    services.request_withdrawal(user=user, amount=D("5.00"))
    for _ in range(21):
        fund(user, "0.10")
    client = client_for(user)

    assert client.get(api("wallet")).json() == {
        "balance": "27.10",
        "currency": "usd",
        "is_locked": False,
    }
    page = client.get(api("wallet/transactions")).json()
    assert page["count"] == 23
    assert len(page["results"]) == 20 and page["next"] is not None
    newest = page["results"][0]
    entry = LedgerEntry.objects.filter(wallet__user=user).order_by("-sequence").first()
    assert newest == {
        "id": entry.pk,
        "type": "adjustment",
        "amount": "0.10",
        "balance_before": "27.00",
        "balance_after": "27.10",
        "reference": "",
        "created_at": newest["created_at"],
    }
    last = client.get(api("wallet/transactions?page=2")).json()["results"]
    assert [(e["type"], e["amount"], e["balance_before"], e["balance_after"]) for e in last] == [
        ("adjustment", "0.10", "25.00", "25.10"),
        ("withdrawal", "-5.00", "30.00", "25.00"),
        ("adjustment", "30.00", "0.00", "30.00"),
    ]
    # Another customer sees none of it.
    assert client_for(UserFactory()).get(api("wallet/transactions")).json()["count"] == 0


def test_a_withdrawal_request_and_its_refusals():
    user = UserFactory()
    client = client_for(user)
    response = client.post(api("wallet/withdrawals"), {"amount": "5.00"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "insufficient_funds")

    wallet = fund(user, "20.00")
    response = client.post(api("wallet/withdrawals"), {"amount": "12.50"}, format="json")
    assert response.status_code == 201
    withdrawal = Withdrawal.objects.get()
    assert response.json() == {"id": str(withdrawal.pk), "amount": "12.50", "status": "pending"}
    assert balance(user) == D("7.50")

    for body in ({"amount": "0.00"}, {"amount": "1.001"}, {}, {"amount": "1", "to": "x"}):
        assert client.post(api("wallet/withdrawals"), body, format="json").status_code == 400
    services.set_wallet_lock(wallet=wallet, locked=True, actor=treasurer())
    response = client.post(api("wallet/withdrawals"), {"amount": "1.00"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "wallet_locked")
    assert client.get(api("wallet")).json()["is_locked"] is True
    assert Withdrawal.objects.count() == 1
    assert balance(user) == D("7.50")


@pytest.mark.parametrize(
    ("decision", "status", "left"), [("approve", "paid", "0.00"), ("reject", "rejected", "10.00")]
)
def test_staff_with_the_permission_decide_a_withdrawal_once(decision, status, left):
    user = UserFactory()
    fund(user, "10.00")
    withdrawal = services.request_withdrawal(user=user, amount=D("10.00"))
    staff = client_for(StaffFactory(permissions=["wallets.change_withdrawal"]))
    url = api(f"wallet/withdrawals/{withdrawal.pk}/{decision}")

    response = staff.post(url)
    assert response.status_code == 200
    assert response.json() == {"id": str(withdrawal.pk), "amount": "10.00", "status": status}
    assert balance(user) == D(left)

    again = staff.post(url)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert balance(user) == D(left)


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_who_may_decide_a_withdrawal(decision):
    user = UserFactory()
    fund(user, "10.00")
    withdrawal = services.request_withdrawal(user=user, amount=D("10.00"))
    url = api(f"wallet/withdrawals/{withdrawal.pk}/{decision}")

    assert APIClient().post(url).status_code == 401
    for who in (
        user,
        UserFactory(),
        StaffFactory(),
        StaffFactory(permissions=["wallets.view_withdrawal"]),
    ):
        response = client_for(who).post(url)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "pending"
    assert balance(user) == D("0.00")

    unknown = api(f"wallet/withdrawals/{'0' * 8}-0000-0000-0000-{'0' * 12}/{decision}")
    assert client_for(treasurer()).post(unknown).status_code == 404
