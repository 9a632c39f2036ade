"""The order admin: staff look orders up and move them only through the services."""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core.tests.helpers import committed
from orders.emails import dispatch_due_emails, send_order_email
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


def listed(response) -> set:
    return {o.pk for o in response.context["cl"].result_list}


# --- the changelist ----------------------------------------------------------------------------


def test_changelist_lists_orders(staff_client, product):
    orders = [make_order(lines=[(product.pk, 1)]) for _ in range(3)]
    response = staff_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert listed(response) == {o.pk for o in orders}
    assert orders[0].short_id in response.content.decode()


def test_search_by_customer_email(staff_client, product):
    alice = UserFactory(email="alice@example.com")
    mine = make_order(user=alice, lines=[(product.pk, 1)])
    make_order(user=UserFactory(email="bob@example.com"), lines=[(product.pk, 1)])

    response = staff_client.get(reverse(CHANGELIST), {"q": "alice@example.com"})

    assert response.status_code == 200
    assert listed(response) == {mine.pk}


def test_search_by_short_id_prefix(staff_client, product):
    wanted = make_order(lines=[(product.pk, 1)])
    make_order(lines=[(product.pk, 1)])

    for term in (wanted.short_id, wanted.short_id.upper(), str(wanted.pk)):
        response = staff_client.get(reverse(CHANGELIST), {"q": term})
        assert response.status_code == 200
        assert listed(response) == {wanted.pk}, term


def test_filter_by_status(staff_client, product):
    pending = make_order(lines=[(product.pk, 1)], status=S.PAYMENT_PENDING)
    paid = make_order(lines=[(product.pk, 1)], status=S.PAID)

    response = staff_client.get(reverse(CHANGELIST), {"status__exact": S.PAID})

    assert response.status_code == 200
    assert listed(response) == {paid.pk}
    response = staff_client.get(reverse(CHANGELIST), {"status__exact": S.PAYMENT_PENDING})
    assert listed(response) == {pending.pk}


def test_search_by_email_respects_the_status_filter(staff_client, product):
    alice = UserFactory(email="alice@example.com")
    paid = make_order(user=alice, lines=[(product.pk, 1)], status=S.PAID)
    make_order(user=alice, lines=[(product.pk, 1)], status=S.CANCELLED)

    response = staff_client.get(
        reverse(CHANGELIST), {"q": "alice@example.com", "status__exact": S.PAID}
    )

    assert listed(response) == {paid.pk}


def test_search_by_short_id_respects_the_status_filter(staff_client, product):
    cancelled = make_order(lines=[(product.pk, 1)], status=S.CANCELLED)

    response = staff_client.get(
        reverse(CHANGELIST), {"q": cancelled.short_id, "status__exact": S.PAID}
    )

    assert listed(response) == set()


# --- the change page and its transition buttons ------------------------------------------------


def test_change_page_of_a_paid_order_offers_mark_fulfilled(staff_client, product):
    order = make_order(lines=[(product.pk, 2)], status=S.PAID)

    response = staff_client.get(change_url(order))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Mark fulfilled" in page
    assert "Cancel order" not in page
    assert f'action="{transition_url(order, "fulfil")}"' in page
    assert response.context["staff_transitions"] == [("fulfil", "Mark fulfilled")]


def test_change_page_lists_the_emails_sent_about_the_order(staff_client, product):
    order = make_order(lines=[(product.pk, 1)], status=S.CREATED)
    send_order_email(order_id=order.pk, kind=OrderEmail.Kind.PLACED)

    response = staff_client.get(change_url(order))

    page = response.content.decode()
    assert "Order placed" in page
    assert order.user.email in page
    formsets = response.context["inline_admin_formsets"]
    inline = next(f for f in formsets if f.opts.model is OrderEmail)
    assert [form.original.kind for form in inline] == [OrderEmail.Kind.PLACED]
    assert not inline.has_add_permission and not inline.has_delete_permission


@pytest.mark.parametrize("status", [S.CREATED, S.PAYMENT_PENDING])
def test_change_page_of_an_unpaid_order_offers_cancel(staff_client, product, status):
    order = make_order(lines=[(product.pk, 2)], status=status)

    response = staff_client.get(change_url(order))

    page = response.content.decode()
    assert "Cancel order" in page
    assert "Mark fulfilled" not in page
    assert f'action="{transition_url(order, "cancel")}"' in page


@pytest.mark.parametrize("status", [S.FULFILLED, S.CANCELLED, S.REFUNDED])
def test_change_page_of_a_finished_order_offers_no_transition(staff_client, product, status):
    order = make_order(lines=[(product.pk, 1)], status=status)
    response = staff_client.get(change_url(order))
    assert response.status_code == 200
    assert response.context["staff_transitions"] == []


def test_post_fulfil_runs_the_service_and_audits_the_staff_member(staff_client, superuser, product):
    order = make_order(lines=[(product.pk, 2)], status=S.PAID)

    response = staff_client.post(transition_url(order, "fulfil"), follow=True)

    assert response.redirect_chain == [(change_url(order), 302)]
    assert status_of(order) == S.FULFILLED
    event = AuditEvent.objects.get(action="order.fulfil")
    assert (event.entity_id, event.actor) == (str(order.pk), superuser)
    assert event.before == {"status": "paid"}
    assert event.after == {"status": "fulfilled"}
    assert messages_of(response) == [f"Order {order.short_id}: mark fulfilled done."]
    assert stock(product) == (8, 0)


def test_post_cancel_releases_the_stock(staff_client, superuser, product):
    order = make_order(lines=[(product.pk, 3)], status=S.PAYMENT_PENDING)
    assert stock(product) == (7, 3)

    response = staff_client.post(transition_url(order, "cancel"))

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
    assert "'fulfil' is not possible" in message.message


def test_cancelling_a_paid_order_is_refused(staff_client, product):
    order = make_order(lines=[(product.pk, 2)], status=S.PAID)

    response = staff_client.post(transition_url(order, "cancel"), follow=True)

    assert status_of(order) == S.PAID
    assert stock(product) == (8, 0)
    assert any("'cancel' is not possible" in m for m in messages_of(response))


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


def run_action(client, action, orders):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "index": "0", "_selected_action": [str(o.pk) for o in orders]},
        follow=True,
    )


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
    assert levels[f"Order {cancellable.short_id}: cancel order done."] == "success"
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


# --- nothing is added, deleted or edited directly -----------------------------------------------


def test_orders_cannot_be_added_or_deleted(staff_client, product):
    order = make_order(lines=[(product.pk, 1)], status=S.PAID)

    assert staff_client.get(reverse("admin:orders_order_add")).status_code == 403
    delete_url = reverse("admin:orders_order_delete", args=[order.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()


def test_saving_the_change_form_cannot_change_the_status(staff_client, product):
    order = make_order(lines=[(product.pk, 1)], status=S.PAID)
    item = order.items.get()

    response = staff_client.post(
        change_url(order),
        {
            "status": S.REFUNDED,
            "total": "0.00",
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "1",
            "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "1000",
            "items-0-id": str(item.pk),
            "items-0-order": str(order.pk),
            "emails-TOTAL_FORMS": "0",
            "emails-INITIAL_FORMS": "0",
            "emails-MIN_NUM_FORMS": "0",
            "emails-MAX_NUM_FORMS": "1000",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.total) == (S.PAID, order.total)
    assert stock(product) == (9, 0)
