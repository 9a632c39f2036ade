"""The order admin: staff look orders up; the change page offers only the services' transitions
and nothing is added, deleted or edited directly."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from orders.emails import send_order_email
from orders.models import Order, OrderEmail
from orders.tests.factories import make_order
from shop.models import Inventory
from shop.tests.factories import ProductFactory, UserFactory

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

    # Refused outright (issue 13): saving would rewrite the whole row outside the order lock.
    assert response.status_code == 403
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.total, stored.updated_at) == (
        S.PAID,
        order.total,
        order.updated_at,
    )


def test_change_page_shows_the_transitions_but_no_save_buttons(staff_client, product):
    order = make_order(lines=[(product.pk, 1)], status=S.PAID)

    page = staff_client.get(change_url(order)).content.decode()

    assert f'action="{transition_url(order, "fulfil")}"' in page
    for button in ('name="_save"', 'name="_continue"', 'name="_addanother"'):
        assert button not in page


def test_a_read_only_admin_page_shows_no_save_buttons(staff_client, product):
    # ReadOnlyAdminMixin (here the order's lines and emails inline, and e.g. the audit log).
    order = make_order(lines=[(product.pk, 1)], status=S.PAID)
    event = AuditEvent.objects.filter(entity_id=str(order.pk)).first()

    page = staff_client.get(
        reverse("admin:audit_auditevent_change", args=[event.pk])
    ).content.decode()

    assert event.action in page
    for button in ('name="_save"', 'name="_continue"', 'name="_addanother"'):
        assert button not in page
    assert stock(product) == (9, 0)
