"""Fulfilment with a carrier and a tracking number: the service, `POST orders/{id}/fulfil`,
the order object, the shipped email and the customer's order page."""

import pytest
from django.core import mail
from django.core.cache import cache

from audit.models import AuditEvent
from core.tests.helpers import api, client_for, committed
from orders import services
from orders.exceptions import InvalidShipment, InvalidTransition
from orders.models import Order
from orders.tests.factories import make_order
from shop.tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Order.Status


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def clerk():
    return StaffFactory(permissions=["orders.change_order"])


def _fulfil(client, order, body=None):
    return client.post(api(f"orders/{order.pk}/fulfil"), body, format="json")


# --- the service ----------------------------------------------------------------------------


def test_fulfil_keeps_carrier_and_tracking_number_and_audits_them(clerk):
    order = make_order(status=S.PAID)

    services.fulfil_order(order=order, actor=clerk, carrier=" DHL ", tracking_number="JD0142 ")

    order = Order.objects.get(pk=order.pk)
    assert (order.status, order.carrier, order.tracking_number) == (S.FULFILLED, "DHL", "JD0142")
    event = AuditEvent.objects.get(action="order.fulfil", entity_id=str(order.pk))
    assert event.after == {"status": "fulfilled", "carrier": "DHL", "tracking_number": "JD0142"}
    assert event.actor == clerk


def test_too_long_a_tracking_number_changes_nothing(clerk):
    order = make_order(status=S.PAID)

    with pytest.raises(InvalidShipment):
        services.fulfil_order(order=order, actor=clerk, tracking_number="9" * 101)

    order = Order.objects.get(pk=order.pk)
    assert (order.status, order.tracking_number) == (S.PAID, "")


def test_an_unpaid_order_keeps_no_tracking_number(clerk):
    order = make_order(status=S.PAYMENT_PENDING)

    with pytest.raises(InvalidTransition):
        services.fulfil_order(order=order, actor=clerk, carrier="UPS", tracking_number="1Z")

    assert Order.objects.filter(pk=order.pk, carrier="", tracking_number="").exists()


# --- the API -----------------------------------------------------------------------------


def test_the_api_takes_carrier_and_tracking_number_and_the_order_shows_the_number(clerk):
    owner = UserFactory()
    order = make_order(user=owner, status=S.PAID)
    assert client_for(owner).get(api(f"orders/{order.pk}")).json()["tracking_number"] is None

    response = _fulfil(client_for(clerk), order, {"carrier": "DHL", "tracking_number": "JD0142"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["tracking_number"]) == (
        "fulfilled",
        "JD0142",
    )
    assert client_for(owner).get(api(f"orders/{order.pk}")).json()["tracking_number"] == "JD0142"
    assert Order.objects.get(pk=order.pk).carrier == "DHL"


@pytest.mark.parametrize("body", [None, {}, {"tracking_number": ""}])
def test_the_api_fulfils_without_a_tracking_number(clerk, body):
    order = make_order(status=S.PAID)

    response = _fulfil(client_for(clerk), order, body)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["tracking_number"]) == ("fulfilled", None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tracking_number": "1Z", "status": "paid"}, "status"),
        ({"tracking_number": "9" * 101}, "tracking_number"),
        ({"carrier": ["DHL"]}, "carrier"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(clerk, body, field):
    order = make_order(status=S.PAID)

    response = _fulfil(client_for(clerk), order, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    order = Order.objects.get(pk=order.pk)
    assert (order.status, order.carrier, order.tracking_number) == (S.PAID, "", "")


def test_staff_without_the_permission_get_403_and_nothing_changes():
    order = make_order(status=S.PAID)
    viewer = StaffFactory(permissions=["orders.view_order"])

    response = _fulfil(client_for(viewer), order, {"tracking_number": "JD0142"})

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert Order.objects.filter(pk=order.pk, status=S.PAID, tracking_number="").exists()


# --- what the customer reads ----------------------------------------------------------------


def test_the_shipped_email_names_carrier_and_tracking_number(clerk):
    order = make_order(status=S.PAID)
    mail.outbox.clear()

    with committed():
        services.fulfil_order(order=order, actor=clerk, carrier="DHL", tracking_number="JD0142")

    (message,) = mail.outbox
    assert message.subject == f"Order {order.short_id} is on its way"
    assert (
        f"Good news: order {order.short_id} has shipped.\nCarrier: DHL\nTracking number: JD0142"
        in (message.body)
    )
    html = message.alternatives[0][0]
    assert "Carrier: DHL<br>Tracking number: <strong>JD0142</strong>" in html


def test_the_shipped_email_without_them_says_only_that_it_shipped(clerk):
    order = make_order(status=S.PAID)
    mail.outbox.clear()

    with committed():
        services.fulfil_order(order=order, actor=clerk)

    (message,) = mail.outbox
    assert "Carrier" not in message.body and "Tracking number" not in message.body


def test_the_order_page_shows_carrier_and_tracking_number(client, clerk):
    owner = UserFactory()
    order = make_order(user=owner, status=S.PAID)
    client.force_login(owner)
    assert 'data-testid="shipment"' not in client.get(order.get_absolute_url()).content.decode()

    services.fulfil_order(order=order, actor=clerk, carrier="DHL", tracking_number="JD0142")

    html = client.get(order.get_absolute_url()).content.decode()
    assert "<dt>Carrier</dt><dd>DHL</dd>" in html
    assert '<dd data-testid="tracking-number">JD0142</dd>' in html
