"""Order emails: enqueued after the commit by each service, sent once per (order, kind)."""

import smtplib
import threading
from unittest import mock

import pytest
from django.core import mail
from django.db import connection, transaction

from orders import emails, services
from orders.emails import Kind
from orders.models import Order, OrderEmail
from orders.tasks import send_order_email_task
from orders.tests.factories import make_order
from payments import services as payment_services
from payments.tests.helpers import committed, intent_dict
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Order.Status


def kinds_sent(order) -> list[str]:
    return sorted(
        OrderEmail.objects.filter(order=order, sent_at__isnull=False).values_list("kind", flat=True)
    )


def subjects() -> list[str]:
    return [m.subject for m in mail.outbox]


# --- what each service sends ------------------------------------------------------------------


def test_placing_an_order_sends_the_order_placed_email_after_the_commit():
    user = UserFactory(email="ada@example.com")
    product = ProductFactory(stock=5, name="Blue mug", sku="MUG-1")
    with committed():
        order = make_order(user=user, lines=[(product.pk, 2)])
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == f"We received your order {order.short_id}"
    assert "2 x Blue mug (MUG-1)" in message.body
    assert f"/orders/{order.pk}/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Blue mug" in html and f"View order {order.short_id}" in html
    assert message.extra_headers["Message-ID"] == f"<order-{order.pk}-placed@localhost>"
    assert kinds_sent(order) == ["placed"]


def test_a_checkout_that_rolls_back_sends_nothing():
    product = ProductFactory(stock=5)
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        make_order(lines=[(product.pk, 1)])
        raise RuntimeError("boom")
    assert mail.outbox == []
    assert not OrderEmail.objects.exists()


def test_paid_fulfilled_and_refunded_each_send_their_email():
    order = make_order()
    staff = StaffFactory()
    with committed():
        services.start_payment(order=order)
        services.mark_paid(order=order)
        services.fulfil_order(order=order, actor=staff)
        services.refund_order(order=order, actor=staff)
    assert subjects() == [
        f"Payment received for order {order.short_id}",
        f"Order {order.short_id} is on its way",
        f"Order {order.short_id} was refunded",
    ]
    assert kinds_sent(order) == ["fulfilled", "paid", "refunded"]


def test_a_late_payment_that_recovers_the_order_sends_payment_received():
    order = make_order(status=S.EXPIRED)
    with committed():
        assert services.recover_late_payment(order=order) is True
    assert subjects() == [f"Payment received for order {order.short_id}"]


def test_a_declined_card_sends_the_declined_email_once_per_order():
    order = make_order(status=S.PAYMENT_PENDING)
    intent = intent_dict(order, status="requires_payment_method")
    intent["last_payment_error"] = {"message": "Your card was declined."}
    with committed():
        payment_services.apply_payment_intent(payment_intent=intent, declined=True)
    with committed():  # the customer tries again and is declined again
        payment_services.apply_payment_intent(payment_intent=intent, declined=True)
    (message,) = mail.outbox
    assert message.subject == f"Your payment for order {order.short_id} was declined"
    assert "(Your card was declined.)" in message.body
    assert kinds_sent(order) == ["declined"]


# --- idempotency and failures -----------------------------------------------------------------


def test_sending_the_same_email_twice_sends_it_once():
    order = make_order()
    assert emails.send_order_email(order_id=order.pk, kind="paid") is True
    assert emails.send_order_email(order_id=order.pk, kind="paid") is False
    assert len(mail.outbox) == 1
    record = OrderEmail.objects.get(order=order, kind=Kind.PAID)
    assert record.sent_at is not None
    assert record.attempts == 1
    assert record.recipient == order.user.email


def test_a_failed_send_is_counted_and_a_retry_sends_it():
    order = make_order()
    refused = smtplib.SMTPServerDisconnected("connection lost")
    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=refused),
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        emails.send_order_email(order_id=order.pk, kind="fulfilled")
    record = OrderEmail.objects.get(order=order, kind=Kind.FULFILLED)
    assert (record.sent_at, record.attempts) == (None, 1)
    assert record.last_error == "SMTPServerDisconnected: connection lost"

    assert emails.send_order_email(order_id=order.pk, kind="fulfilled") is True
    record.refresh_from_db()
    assert record.sent_at is not None
    assert (record.attempts, record.last_error) == (2, "")
    assert len(mail.outbox) == 1


def test_the_task_retries_a_failed_send_and_sends_exactly_once():
    order = make_order()
    real_send = mail.EmailMultiAlternatives.send
    calls = []

    def flaky(message, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("try later")
        return real_send(message, *args, **kwargs)

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", flaky):
        send_order_email_task.apply(kwargs={"order_id": str(order.pk), "kind": "paid"})
    assert len(calls) == 2
    assert len(mail.outbox) == 1
    assert OrderEmail.objects.get(order=order, kind=Kind.PAID).attempts == 2


def test_the_task_does_not_retry_an_unknown_kind():
    order = make_order()
    result = send_order_email_task.apply(kwargs={"order_id": str(order.pk), "kind": "spam"})
    assert result.state == "FAILURE"
    assert isinstance(result.result, ValueError)
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_worker_skips_an_email_another_worker_is_sending():
    order = make_order()  # transaction=True: its `placed` email went out at the commit
    mail.outbox.clear()
    OrderEmail.objects.create(order=order, kind=Kind.PAID, recipient=order.user.email)
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                OrderEmail.objects.select_for_update().get(order=order, kind=Kind.PAID)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        assert emails.send_order_email(order_id=order.pk, kind="paid") is False
        assert mail.outbox == []
    finally:
        release.set()
        thread.join(10)
    assert emails.send_order_email(order_id=order.pk, kind="paid") is True
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_every_kind_renders_text_and_html(kind):
    product = ProductFactory(name="Teapot", sku="TEA-9")
    order = make_order(lines=[(product.pk, 1)])
    message = emails.build_message(order=order, kind=kind)
    html, _ = message.alternatives[0]
    assert order.short_id in message.subject
    assert "1 x Teapot (TEA-9)" in message.body and "Total: 10.00 USD" in message.body
    assert "<html" in html and "Teapot" in html and "&lt;" not in message.body
