"""The payments admin: the refund action goes through the service; webhook events are
read-only and can be replayed."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from core.tests.helpers import committed
from orders.models import Order
from orders.tests.factories import make_order
from payments import webhooks
from payments.models import Payment, Refund, WebhookEvent
from payments.tests.helpers import (
    audit_count,
    checkout,
    fresh,
    intent_dict,
    make_event,
    paid_order,
    payment_of,
    post_event,
    sim_refunds,
    stock,
)
from shop.models import User
from shop.tests.factories import ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

S = Order.Status
PAYMENTS = reverse("admin:payments_payment_changelist")
EVENTS = reverse("admin:payments_webhookevent_changelist")


@pytest.fixture
def staff_client(client):
    admin = User.objects.create_superuser(email="boss@example.com", password="pw-for-tests")
    client.force_login(admin)
    client.admin = admin
    return client


def _messages(response):
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def _run_action(client, url, action, pks, *, confirm=True, **extra):
    """Run an admin action; `confirm` answers its confirmation page (if it has one) at once."""
    data = {"action": action, "_selected_action": [str(pk) for pk in pks], "index": "0"}
    data.update(extra)
    if confirm:
        data["confirm"] = "yes"
    with committed():
        return client.post(url, data, follow=True)


def test_refund_action_with_an_amount_records_and_sends_a_refund(staff_client, stripe_sim):
    product = ProductFactory(stock=5, price=Decimal("25.00"))
    order = paid_order(stripe_sim, product, quantity=2)
    payment = payment_of(order)

    response = _run_action(staff_client, PAYMENTS, "refund", [payment.pk], amount="12.50")

    assert response.status_code == 200
    assert _messages(response) == [("success", f"{payment}: refund of $12.50 recorded.")]
    refund = Refund.objects.get()
    assert (refund.amount, refund.created_by_id, refund.restock) == (
        Decimal("12.50"),
        staff_client.admin.pk,
        False,
    )
    assert refund.status == Refund.Status.SUCCEEDED
    assert [r["id"] for r in sim_refunds(stripe_sim, payment.stripe_payment_intent_id)] == [
        refund.stripe_refund_id
    ]
    assert payment_of(order).amount_refunded == Decimal("12.50")
    assert fresh(order.pk).status == S.PAID


def test_refund_action_asks_first_and_changes_nothing_until_confirmed(staff_client, stripe_sim):
    product = ProductFactory(stock=5, price=Decimal("25.00"))
    order = paid_order(stripe_sim, product, quantity=2)
    payment = payment_of(order)

    response = _run_action(
        staff_client, PAYMENTS, "refund", [payment.pk], confirm=False, amount="12.50"
    )

    assert response.templates[0].name == "admin/confirm_action.html"
    page = response.content.decode()
    assert "Refund 12.50 of each of these payments?" in page
    assert f"<li>{payment} ({order})</li>" in page
    assert '<input type="hidden" name="confirm" value="yes">' in page
    assert f'<input type="hidden" name="_selected_action" value="{payment.pk}">' in page
    assert not Refund.objects.exists()
    assert payment_of(order).amount_refunded == 0


def test_refund_action_needs_the_refund_permission(client, stripe_sim):
    # Issue 13: a member who could only view payments refunded 18.00 and restocked.
    product = ProductFactory(stock=5, price=Decimal("18.00"))
    order = paid_order(stripe_sim, product, quantity=1)
    payment = payment_of(order)
    viewer = StaffFactory(permissions=["payments.view_payment", "payments.view_refund"])
    client.force_login(viewer)

    response = _run_action(client, PAYMENTS, "refund", [payment.pk], amount="", restock="on")

    assert response.status_code == 200
    assert response.context["action_form"] is None  # no action offered, none run
    assert not Refund.objects.exists()
    assert sim_refunds(stripe_sim, payment.stripe_payment_intent_id) == []
    assert (fresh(order.pk).status, stock(product)) == (S.PAID, (4, 0))

    client.force_login(StaffFactory(permissions=["payments.view_payment", "payments.add_refund"]))
    _run_action(client, PAYMENTS, "refund", [payment.pk], amount="", restock="on")
    assert (fresh(order.pk).status, stock(product)) == (S.REFUNDED, (5, 0))


def test_refund_action_without_an_amount_refunds_the_rest_and_can_restock(staff_client, stripe_sim):
    product = ProductFactory(stock=5, price=Decimal("25.00"))
    order = paid_order(stripe_sim, product, quantity=2)

    _run_action(staff_client, PAYMENTS, "refund", [payment_of(order).pk], amount="", restock="on")

    order = fresh(order.pk)
    assert (order.status, order.restocked) == (S.REFUNDED, True)
    assert Refund.objects.get().amount == Decimal("50.00")
    assert stock(product) == (5, 0)


def test_refund_action_reports_errors_and_changes_nothing(staff_client, stripe_sim):
    product = ProductFactory(stock=5, price=Decimal("25.00"))
    order = paid_order(stripe_sim, product, quantity=1)
    payment = payment_of(order)

    bad = _run_action(staff_client, PAYMENTS, "refund", [payment.pk], amount="lots")
    too_much = _run_action(staff_client, PAYMENTS, "refund", [payment.pk], amount="25.01")

    assert _messages(bad) == [("error", "'lots' is not an amount.")]
    assert _messages(too_much) == [
        ("error", f"{payment}: The refund must be between 0.01 and 25.00 USD.")
    ]
    assert Refund.objects.count() == 0
    assert payment_of(order).amount_refunded == 0


def test_payment_admin_is_read_only(staff_client, stripe_sim):
    order = checkout(ProductFactory(stock=5), quantity=1)
    payment = payment_of(order)

    assert staff_client.get(reverse("admin:payments_payment_add")).status_code == 403
    delete = reverse("admin:payments_payment_delete", args=[payment.pk])
    assert staff_client.get(delete).status_code == 403
    page = staff_client.get(reverse("admin:payments_payment_change", args=[payment.pk]))
    assert page.status_code == 200
    assert payment.client_secret not in page.content.decode()
    assert Payment.objects.count() == 1


def test_webhook_event_admin_has_no_add_or_delete(staff_client):
    event = WebhookEvent.objects.create(stripe_event_id="evt_admin_1", type="x.y", payload={})

    assert staff_client.get(reverse("admin:payments_webhookevent_add")).status_code == 403
    delete = reverse("admin:payments_webhookevent_delete", args=[event.pk])
    assert staff_client.get(delete).status_code == 403
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    changelist = staff_client.get(EVENTS)
    assert changelist.status_code == 200
    actions = [name for name, _ in changelist.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert "replay" in actions
    bulk = _run_action(staff_client, EVENTS, "delete_selected", [event.pk], post="yes")
    assert bulk.status_code == 200
    assert WebhookEvent.objects.filter(pk=event.pk).exists()


def test_webhook_event_replay_action_reprocesses(staff_client, monkeypatch):
    product = ProductFactory(stock=5)
    order = make_order(lines=[(product.pk, 1)], status=S.PAYMENT_PENDING)
    event = make_event("payment_intent.succeeded", intent_dict(order))
    with monkeypatch.context() as patch:
        patch.setitem(
            webhooks.HANDLERS,
            "payment_intent.succeeded",
            lambda obj, event_type: 1 / 0,
        )
        assert post_event(staff_client, event).status_code == 500
    stored = WebhookEvent.objects.get()
    assert stored.status == WebhookEvent.Status.FAILED

    response = _run_action(staff_client, EVENTS, "replay", [stored.pk])

    assert _messages(response) == [("success", f"{stored}: processed.")]
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.PROCESSED, 2)
    assert fresh(order.pk).status == S.PAID
    assert stock(product) == (4, 0)

    # Replaying a processed event runs it again and changes nothing.
    again = _run_action(staff_client, EVENTS, "replay", [stored.pk])
    assert _messages(again) == [("success", f"{stored}: processed.")]
    assert WebhookEvent.objects.get().attempts == 3
    assert audit_count("order.mark_paid", order.pk) == 1
    assert stock(product) == (4, 0)


def test_webhook_event_replay_needs_the_change_permission(staff_client, client, monkeypatch):
    product = ProductFactory(stock=5)
    order = make_order(lines=[(product.pk, 1)], status=S.PAYMENT_PENDING)
    event = make_event("payment_intent.succeeded", intent_dict(order))
    with monkeypatch.context() as patch:
        patch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", lambda obj, event_type: 1 / 0)
        post_event(staff_client, event)
    stored = WebhookEvent.objects.get()
    client.force_login(StaffFactory(permissions=["payments.view_webhookevent"]))

    response = _run_action(client, EVENTS, "replay", [stored.pk])

    assert response.context["action_form"] is None  # no action offered, none run
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.FAILED, 1)
    assert fresh(order.pk).status == S.PAYMENT_PENDING

    client.force_login(
        StaffFactory(permissions=["payments.view_webhookevent", "payments.change_webhookevent"])
    )
    _run_action(client, EVENTS, "replay", [stored.pk])
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert fresh(order.pk).status == S.PAID


def test_webhook_event_replay_action_reports_a_failure(staff_client, monkeypatch):
    product = ProductFactory(stock=5)
    order = make_order(lines=[(product.pk, 1)], status=S.PAYMENT_PENDING)
    event = make_event("payment_intent.succeeded", intent_dict(order))
    monkeypatch.setitem(
        webhooks.HANDLERS, "payment_intent.succeeded", lambda obj, event_type: 1 / 0
    )
    post_event(staff_client, event)
    stored = WebhookEvent.objects.get()

    response = _run_action(staff_client, EVENTS, "replay", [stored.pk])

    assert _messages(response) == [("error", f"{stored}: division by zero")]
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == (WebhookEvent.Status.FAILED, 2)
    assert stored.last_error == "ZeroDivisionError: division by zero"
    assert fresh(order.pk).status == S.PAYMENT_PENDING
