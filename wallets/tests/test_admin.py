"""The wallet admin: read-only records; lock, unlock, adjust and decide withdrawals only
through the services, each action offered only to staff holding its permission."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from orders.tests.factories import make_order
from shop.tests.factories import StaffFactory, UserFactory
from wallets import services
from wallets.models import Deposit, LedgerEntry, Wallet, Withdrawal
from wallets.tests.helpers import balance, fund

pytestmark = pytest.mark.django_db
D = Decimal
WALLETS = reverse("admin:wallets_wallet_changelist")
WITHDRAWALS = reverse("admin:wallets_withdrawal_changelist")


def _messages(response):
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def _run_action(client, url, action, pks, **extra):
    data = {"action": action, "_selected_action": [str(pk) for pk in pks], "index": "0"}
    return client.post(url, {**data, **extra}, follow=True)


def _actions_for(model, user):
    request = RequestFactory().get("/")
    request.user = user
    return set(admin.site._registry[model].get_actions(request))


def test_lock_unlock_and_adjust_through_the_admin(staff_client, superuser):
    customer = UserFactory()
    wallet = fund(customer, "10.00")

    locked = _run_action(staff_client, WALLETS, "lock_selected", [wallet.pk], reason="fraud check")
    assert _messages(locked) == [("success", f"{wallet}: locked.")]
    wallet = Wallet.objects.get(pk=wallet.pk)
    assert (wallet.is_locked, wallet.locked_reason) == (True, "fraud check")

    adjusted = _run_action(
        staff_client, WALLETS, "adjust_selected", [wallet.pk], amount="-2.50", reason="fee"
    )
    assert _messages(adjusted) == [("success", f"{wallet}: adjusted by -2.50.")]
    entry = LedgerEntry.objects.filter(wallet=wallet).latest("sequence")
    assert (entry.type, entry.amount, entry.note, entry.created_by) == (
        "adjustment",
        D("-2.50"),
        "fee",
        superuser,
    )

    unlocked = _run_action(staff_client, WALLETS, "unlock_selected", [wallet.pk])
    assert _messages(unlocked) == [("success", f"{wallet}: unlocked.")]
    assert Wallet.objects.get(pk=wallet.pk).is_locked is False
    assert list(
        AuditEvent.objects.filter(entity_type="wallet", actor=superuser)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["wallet.locked", "wallet.adjustment", "wallet.unlocked"]


def test_refused_adjustments_report_and_change_nothing(staff_client):
    wallet = fund(UserFactory(), "10.00")
    bad = _run_action(staff_client, WALLETS, "adjust_selected", [wallet.pk], amount="lots")
    too_much = _run_action(
        staff_client, WALLETS, "adjust_selected", [wallet.pk], amount="-10.01", reason="x"
    )
    no_reason = _run_action(staff_client, WALLETS, "adjust_selected", [wallet.pk], amount="1")
    assert _messages(bad) == [("error", "'lots' is not an amount.")]
    assert _messages(too_much)[0][0] == "error"
    assert _messages(no_reason) == [("error", f"{wallet}: An adjustment needs a reason.")]
    assert balance(wallet.user) == D("10.00")


def test_approve_and_reject_withdrawals_in_the_admin(staff_client):
    customer = UserFactory()
    fund(customer, "30.00")
    paid = services.request_withdrawal(user=customer, amount=D("10.00"))
    rejected = services.request_withdrawal(user=customer, amount=D("20.00"))

    response = _run_action(staff_client, WITHDRAWALS, "approve_selected", [paid.pk])
    assert _messages(response) == [("success", f"{paid}: paid.")]
    response = _run_action(
        staff_client, WITHDRAWALS, "reject_selected", [rejected.pk], reason="closed account"
    )
    assert _messages(response) == [("success", f"{rejected}: rejected.")]
    again = _run_action(staff_client, WITHDRAWALS, "approve_selected", [paid.pk])
    assert _messages(again)[0][0] == "error"

    assert Withdrawal.objects.get(pk=paid.pk).status == "paid"
    assert Withdrawal.objects.get(pk=rejected.pk).note == "closed account"
    assert balance(customer) == D("20.00")


def test_each_action_is_offered_only_with_its_permission():
    viewer = StaffFactory(permissions=["wallets.view_wallet", "wallets.view_withdrawal"])
    assert _actions_for(Wallet, viewer) == set()
    assert _actions_for(Withdrawal, viewer) == set()
    locker = StaffFactory(permissions=["wallets.view_wallet", "wallets.change_wallet"])
    assert _actions_for(Wallet, locker) == {"lock_selected", "unlock_selected"}
    treasurer = StaffFactory(permissions=["wallets.view_wallet", "wallets.adjust_balance"])
    assert _actions_for(Wallet, treasurer) == {"adjust_selected"}
    decider = StaffFactory(permissions=["wallets.view_withdrawal", "wallets.change_withdrawal"])
    assert _actions_for(Withdrawal, decider) == {"approve_selected", "reject_selected"}


def test_wallet_records_are_read_only(staff_client):
    customer = UserFactory()
    wallet = fund(customer, "10.00")
    deposit = services.open_deposit(user=customer, amount=D("5.00"))
    for model, obj in ((Wallet, wallet), (Deposit, deposit), (LedgerEntry, wallet.entries.get())):
        name = model._meta.model_name
        assert staff_client.get(reverse(f"admin:wallets_{name}_add")).status_code == 403
        delete = reverse(f"admin:wallets_{name}_delete", args=[obj.pk])
        assert staff_client.get(delete).status_code == 403
    page = staff_client.get(reverse("admin:wallets_wallet_change", args=[wallet.pk]))
    assert page.status_code == 200
    assert "test funds" in page.content.decode()  # the ledger inline
    page = staff_client.post(
        reverse("admin:wallets_wallet_change", args=[wallet.pk]), {"balance": "1000.00"}
    )
    assert page.status_code == 403
    assert balance(customer) == D("10.00")


def test_the_order_page_says_a_wallet_paid_order_was_paid_from_the_wallet(staff_client):
    customer = UserFactory()
    fund(customer, "50.00")
    order = make_order(user=customer)
    services.pay_order(order=order, user=customer)

    html = staff_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert 'data-testid="paid-from-wallet"' in html
    ledger = reverse("admin:wallets_ledgerentry_changelist")
    assert f'href="{ledger}?q={order.pk}"' in html
    assert 'data-testid="amount-refunded"' not in html  # no card figures for it
