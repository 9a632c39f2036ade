"""Staff move orders in the admin only through the services: the transition buttons of the
change page and the bulk actions, with their permissions, messages and audit events."""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core.tests.helpers import committed
from orders.emails import dispatch_due_emails
from orders.models import Order, OrderEmail
from orders.tests.factories import make_order
from shop.models import Inventory
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Order.Status
CHANGELIST = "admin:orders_order_changelist"


@pytest.fixture
def product():
    return ProductFactory(stock=10)


def stock(product) -> tuple[int, int]:
    inv = Inventory.objects.get(product=product)
    return inv.available, inv.reserved


def status_of(order) -> str:
    return Order.objects.get(pk=order.pk).status


def transition_url(order, name):
    return reverse("admin:orders_order_transition", args=[order.pk, name])


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- the transition buttons --------------------------------------------------------------------


def test_post_fulfil_runs_the_service_and_audits_the_staff_member(staff_client, superuser, product):
    order = make_order(lines=[(product.pk, 2)], status=S.PAID)

    response = staff_client.post(transition_url(order, "fulfil"), follow=True)

    assert response.redirect_chain == [(change_url(order), 302)]
    assert status_of(order) == S.FULFILLED
    event = AuditEvent.objects.get(action="order.fulfil")
    assert (event.entity_id, event.actor) == (str(order.pk), superuser)
    assert event.before == {"status": "paid"}
    assert event.after == {"status": "fulfilled", "carrier": "", "tracking_number": ""}
    assert messages_of(response) == [f"Order {order.short_id}: marked fulfilled."]
    assert stock(product) == (8, 0)


def test_post_cancel_asks_first_and_changes_nothing(staff_client, product):
    order = make_order(user=UserFactory(email="ada@example.com"), lines=[(product.pk, 3)])

    response = staff_client.post(transition_url(order, "cancel"))

    assert response.status_code == 200
    assert response.templates[0].name == "admin/confirm_action.html"
    page = response.content.decode()
    assert f"Cancel order {order.short_id} of ada@example.com, total $30.00?" in page
    assert f'<form method="post" action="{transition_url(order, "cancel")}">' in page
    assert '<input type="hidden" name="confirm" value="yes">' in page
    assert f'href="{change_url(order)}"' in page
    assert status_of(order) == S.CREATED
    assert stock(product) == (7, 3)


def test_post_cancel_confirmed_releases_the_stock(staff_client, superuser, product):
    order = make_order(lines=[(product.pk, 3)], status=S.PAYMENT_PENDING)
    assert stock(product) == (7, 3)

    response = staff_client.post(transition_url(order, "cancel"), {"confirm": "yes"})

    assert response.status_code == 302
    assert status_of(order) == S.CANCELLED
    assert stock(product) == (10, 0)
    assert AuditEvent.objects.get(action="order.cancel").actor == superuser
    released = AuditEvent.objects.get(action="inventory.released")
    assert (released.entity_id, released.actor) == (str(product.pk), superuser)


def test_invalid_transition_shows_an_error_and_changes_nothing(staff_client, product):
    order = make_order(lines=[(product.pk, 2)], status=S.PAYMENT_PENDING)
    events = AuditEvent.objects.count()

    response = staff_client.post(transition_url(order, "fulfil"), follow=True)

    assert response.status_code == 200
    assert status_of(order) == S.PAYMENT_PENDING
    assert stock(product) == (8, 2)
    assert AuditEvent.objects.count() == events
    (message,) = response.context["messages"]
    assert message.level_tag == "error"
    # Plain words, naming the order once: not "'fulfil' is not possible".
    assert message.message == (
        f"Order {order.short_id} cannot be fulfilled: its payment is pending."
    )


def test_cancelling_a_paid_order_is_refused(staff_client, product):
    order = make_order(lines=[(product.pk, 2)], status=S.PAID)

    response = staff_client.post(transition_url(order, "cancel"), follow=True)

    assert status_of(order) == S.PAID
    assert stock(product) == (8, 0)
    assert messages_of(response) == [f"Order {order.short_id} cannot be cancelled: it is paid."]


@pytest.mark.parametrize("name", ["mark_paid", "refund", "expire", "delete"])
def test_unknown_or_non_staff_transition_names_change_nothing(staff_client, product, name):
    order = make_order(lines=[(product.pk, 2)], status=S.PAYMENT_PENDING)

    response = staff_client.post(transition_url(order, name))

    assert response.status_code == 302
    assert response["Location"] == reverse(CHANGELIST)
    assert status_of(order) == S.PAYMENT_PENDING
    assert stock(product) == (8, 2)


def test_get_on_the_transition_url_is_405(staff_client, product):
    order = make_order(lines=[(product.pk, 2)], status=S.PAID)

    response = staff_client.get(transition_url(order, "fulfil"))

    assert response.status_code == 405
    assert status_of(order) == S.PAID


def test_transition_on_an_unknown_order_is_404(staff_client):
    url = reverse(
        "admin:orders_order_transition", args=["00000000-0000-0000-0000-000000000000", "fulfil"]
    )
    assert staff_client.post(url).status_code == 404


def test_transition_url_needs_a_staff_login(client, product):
    order = make_order(lines=[(product.pk, 2)], status=S.PAID)
    client.force_login(UserFactory())

    response = client.post(transition_url(order, "fulfil"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert status_of(order) == S.PAID


def test_staff_without_change_permission_cannot_transition(client, product):
    order = make_order(lines=[(product.pk, 2)], status=S.PAID)
    client.force_login(StaffFactory())  # is_staff, but no model permissions

    response = client.post(transition_url(order, "fulfil"))

    assert response.status_code == 302
    assert status_of(order) == S.PAID


# --- bulk actions ------------------------------------------------------------------------------


def run_action(client, action, orders, *, confirm=True):
    """Run a bulk action; `confirm` answers its confirmation page (if any) at once."""
    data = {"action": action, "index": "0", "_selected_action": [str(o.pk) for o in orders]}
    if confirm:
        data["confirm"] = "yes"
    return client.post(reverse(CHANGELIST), data, follow=True)


def test_cancel_action_asks_first_and_changes_nothing(staff_client, product):
    orders = [make_order(lines=[(product.pk, 2)]) for _ in range(2)]

    response = run_action(staff_client, "cancel_selected", orders, confirm=False)

    assert response.templates[0].name == "admin/confirm_action.html"
    page = response.content.decode()
    assert "Cancel these orders and release their stock?" in page
    for order in orders:
        assert f'<input type="hidden" name="_selected_action" value="{order.pk}">' in page
        assert f"<li>{order} ({order.user.email}, Awaiting payment)</li>" in page
    assert '<input type="hidden" name="action" value="cancel_selected">' in page
    assert [status_of(o) for o in orders] == [S.CREATED, S.CREATED]
    assert stock(product) == (6, 4)


def test_cancel_action_asks_only_about_the_orders_it_can_cancel(staff_client, product):
    fulfilled = make_order(lines=[(product.pk, 1)], status=S.FULFILLED)
    open_order = make_order(lines=[(product.pk, 1)])

    alone = run_action(staff_client, "cancel_selected", [fulfilled], confirm=False)
    both = run_action(staff_client, "cancel_selected", [fulfilled, open_order], confirm=False)

    # Refused at once, without a confirmation page that could only fail.
    assert "admin/confirm_action.html" not in [t.name for t in alone.templates]
    assert f"Order {fulfilled.short_id} cannot be cancelled" in " ".join(messages_of(alone))
    page = both.content.decode()
    assert f'name="_selected_action" value="{open_order.pk}"' in page
    assert f'name="_selected_action" value="{fulfilled.pk}"' not in page
    assert [status_of(fulfilled), status_of(open_order)] == [S.FULFILLED, S.CREATED]


def test_cancel_action_releases_stock(staff_client, superuser, product):
    orders = [
        make_order(lines=[(product.pk, 2)], status=S.CREATED),
        make_order(lines=[(product.pk, 3)], status=S.PAYMENT_PENDING),
    ]
    assert stock(product) == (5, 5)

    response = run_action(staff_client, "cancel_selected", orders)

    assert response.status_code == 200
    assert [status_of(o) for o in orders] == [S.CANCELLED, S.CANCELLED]
    assert stock(product) == (10, 0)
    assert set(
        AuditEvent.objects.filter(action="order.cancel").values_list("actor", flat=True)
    ) == {superuser.pk}


def test_cancel_action_reports_each_refusal(staff_client, product):
    cancellable = make_order(lines=[(product.pk, 2)], status=S.PAYMENT_PENDING)
    paid = make_order(lines=[(product.pk, 3)], status=S.PAID)

    response = run_action(staff_client, "cancel_selected", [cancellable, paid])

    assert status_of(cancellable) == S.CANCELLED
    assert status_of(paid) == S.PAID
    assert stock(product) == (7, 0)
    levels = {m.message: m.level_tag for m in response.context["messages"]}
    assert levels[f"Order {cancellable.short_id}: cancelled."] == "success"
    assert [lvl for msg, lvl in levels.items() if paid.short_id in msg] == ["error"]


def test_fulfil_action(staff_client, superuser, product):
    paid = make_order(lines=[(product.pk, 1)], status=S.PAID)
    pending = make_order(lines=[(product.pk, 1)], status=S.PAYMENT_PENDING)

    run_action(staff_client, "fulfil_selected", [paid, pending])

    assert status_of(paid) == S.FULFILLED
    assert status_of(pending) == S.PAYMENT_PENDING
    assert AuditEvent.objects.get(action="order.fulfil").actor == superuser


def test_retry_emails_action_gives_unsent_emails_a_new_round(staff_client, superuser, product):
    gave_up = make_order(lines=[(product.pk, 1)], status=S.CREATED)
    OrderEmail.objects.filter(order=gave_up).update(
        attempts=OrderEmail.MAX_ATTEMPTS, last_error="SMTPRecipientsRefused: {}"
    )
    sent = make_order(lines=[(product.pk, 1)], status=S.CREATED)
    OrderEmail.objects.filter(order=sent).update(sent_at=timezone.now(), attempts=1)
    assert dispatch_due_emails() == 0

    response = run_action(staff_client, "retry_unsent_emails", [gave_up, sent])

    assert messages_of(response) == ["1 email will be sent again."]
    record = OrderEmail.objects.get(order=gave_up)
    assert record.attempts == 0 and record.next_attempt_at <= timezone.now()
    assert OrderEmail.objects.get(order=sent).attempts == 1
    event = AuditEvent.objects.get(action="order_email.retried")
    assert event.actor == superuser
    assert event.before == {
        "attempts": OrderEmail.MAX_ATTEMPTS,
        "last_error": "SMTPRecipientsRefused: {}",
    }
    assert event.after == {"attempts": 0, "order": str(gave_up.pk), "kind": "placed"}
    with committed():
        assert dispatch_due_emails() == 1
    assert OrderEmail.objects.get(order=gave_up).sent_at is not None


def test_retry_emails_action_says_when_there_is_nothing_to_send(staff_client, product):
    order = make_order(lines=[(product.pk, 1)], status=S.CREATED)
    OrderEmail.objects.filter(order=order).update(sent_at=timezone.now())

    response = run_action(staff_client, "retry_unsent_emails", [order])

    levels = {m.message: m.level_tag for m in response.context["messages"]}
    assert levels == {"The selected orders have no unsent email.": "warning"}
    assert not AuditEvent.objects.filter(action="order_email.retried").exists()


@pytest.mark.parametrize("action", ["fulfil_selected", "cancel_selected", "retry_unsent_emails"])
def test_staff_who_may_only_view_orders_cannot_run_the_actions(client, product, action):
    from django.contrib.auth.models import Permission

    viewer = StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    order = make_order(lines=[(product.pk, 2)], status=S.PAID)
    OrderEmail.objects.filter(order=order).update(attempts=OrderEmail.MAX_ATTEMPTS)
    events = AuditEvent.objects.count()

    response = run_action(client, action, [order])

    assert response.status_code == 200  # the changelist, read-only
    assert action not in response.context["cl"].model_admin.get_actions(response.wsgi_request)
    assert status_of(order) == S.PAID
    attempts = set(OrderEmail.objects.filter(order=order).values_list("attempts", flat=True))
    assert attempts == {OrderEmail.MAX_ATTEMPTS}
    assert AuditEvent.objects.count() == events
