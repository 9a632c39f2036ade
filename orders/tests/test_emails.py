"""Order emails: written to the outbox by each service, sent once per (order, kind)."""

import re
import smtplib
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from core.tests.helpers import committed
from orders import emails, services
from orders.emails import Kind
from orders.models import Order, OrderEmail
from orders.tasks import send_order_email_task
from orders.tests.factories import make_due, make_order
from shop.models import Inventory
from shop.tests.concurrency import run_concurrently
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


def test_paid_and_fulfilled_each_send_their_email_and_a_refund_sends_none_here():
    order = make_order()
    staff = StaffFactory()
    with committed():
        services.start_payment(order=order)
        services.mark_paid(order=order)
        services.fulfil_order(order=order, actor=staff)
        # The refund's own email (with its amount) comes from payments, one per refund.
        services.refund_order(order=order, actor=staff)
    assert subjects() == [
        f"Payment received for order {order.short_id}",
        f"Order {order.short_id} is on its way",
    ]
    assert kinds_sent(order) == ["fulfilled", "paid"]


def test_cancelling_and_expiring_send_their_email():
    cancelled, expired = make_order(), make_order()
    make_due(expired)
    with committed():
        services.cancel_order(order=cancelled, actor=cancelled.user)
        assert services.expire_order(order=expired) is True
    assert subjects() == [
        f"Order {cancelled.short_id} is cancelled",
        f"Your reservation for order {expired.short_id} has expired",
    ]
    assert kinds_sent(cancelled) == ["cancelled"]
    assert kinds_sent(expired) == ["expired"]


def test_a_late_payment_that_recovers_the_order_sends_payment_received():
    order = make_order(status=S.EXPIRED)
    with committed():
        assert services.recover_late_payment(order=order) is True
    assert subjects() == [f"Payment received for order {order.short_id}"]


# --- the outbox ---------------------------------------------------------------------------


@pytest.fixture
def with_worker(settings):
    """Production's delivery: nothing is sent at the commit, the dispatcher sends."""
    settings.EMAIL_SEND_ON_COMMIT = False


def due_now(order, kind):
    OrderEmail.objects.filter(order=order, kind=kind).update(next_attempt_at=timezone.now())


def test_a_checkout_writes_its_email_in_its_transaction_and_publishes_nothing(with_worker):
    product = ProductFactory(stock=5)
    with (
        mock.patch.object(send_order_email_task, "delay", side_effect=OSError("broker down")),
        committed(),
    ):
        order = make_order(lines=[(product.pk, 1)])
    record = OrderEmail.objects.get(order=order)
    assert (record.kind, record.sent_at, record.attempts) == (Kind.PLACED, None, 0)
    assert mail.outbox == []

    with committed():
        assert emails.dispatch_due_emails() == 1  # the worker sends it (eagerly here)
    assert subjects() == [f"We received your order {order.short_id}"]
    assert kinds_sent(order) == ["placed"]
    assert emails.dispatch_due_emails() == 0


def test_asking_twice_for_one_email_keeps_one_row_and_sends_once(with_worker):
    order = make_order()
    with committed():
        emails.enqueue(order_id=order.pk, kind="paid")
        emails.enqueue(order_id=order.pk, kind="paid")
    assert OrderEmail.objects.filter(order=order, kind=Kind.PAID).count() == 1
    with committed():
        assert emails.dispatch_due_emails() == 2  # placed and paid
    assert emails.send_order_email(order_id=order.pk, kind="paid") is False
    assert sorted(subjects()) == [
        f"Payment received for order {order.short_id}",
        f"We received your order {order.short_id}",
    ]


def test_a_dispatched_email_is_leased_and_handed_out_again_only_when_the_lease_ends(
    with_worker,
):
    order = make_order()
    with mock.patch.object(send_order_email_task, "delay") as delay, committed():
        assert emails.dispatch_due_emails() == 1  # the worker never gets to it
    delay.assert_called_once_with(order_id=str(order.pk), kind="placed", reference="")
    record = OrderEmail.objects.get(order=order)
    assert record.next_attempt_at > timezone.now() + emails.LEASE - timedelta(seconds=10)
    assert emails.dispatch_due_emails() == 0

    due_now(order, Kind.PLACED)  # the lease ran out
    with committed():
        assert emails.dispatch_due_emails() == 1
    assert kinds_sent(order) == ["placed"]


def test_a_failed_send_is_retried_by_a_later_dispatch_after_its_backoff(with_worker):
    order = make_order()
    real_send = mail.EmailMultiAlternatives.send
    calls = []

    def flaky(message, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("try later")
        return real_send(message, *args, **kwargs)

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", flaky):
        with committed():
            assert emails.dispatch_due_emails() == 1
        record = OrderEmail.objects.get(order=order)
        assert (record.sent_at, record.attempts) == (None, 1)
        assert record.last_error == "SMTPServerDisconnected: try later"
        assert record.next_attempt_at > timezone.now() + timedelta(seconds=25)
        assert emails.dispatch_due_emails() == 0  # not due before its backoff

        due_now(order, Kind.PLACED)
        with committed():
            assert emails.dispatch_due_emails() == 1
    assert len(calls) == 2
    assert len(mail.outbox) == 1
    record.refresh_from_db()
    assert (record.attempts, record.last_error) == (2, "")
    assert record.sent_at is not None


def test_the_backoff_doubles_from_30_seconds_up_to_an_hour():
    delays = [emails.retry_delay(n).total_seconds() for n in range(1, OrderEmail.MAX_ATTEMPTS)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_after_the_last_attempt_nobody_tries_again(with_worker, caplog):
    order = make_order()
    OrderEmail.objects.filter(order=order).update(attempts=OrderEmail.MAX_ATTEMPTS - 1)
    refused = smtplib.SMTPRecipientsRefused({})
    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=refused),
        committed(),
    ):
        assert emails.dispatch_due_emails() == 1
    record = OrderEmail.objects.get(order=order)
    assert (record.sent_at, record.attempts) == (None, OrderEmail.MAX_ATTEMPTS)
    assert "giving up" in caplog.text
    due_now(order, Kind.PLACED)
    assert emails.dispatch_due_emails() == 0


def test_an_unknown_kind_is_refused_and_writes_nothing():
    order = make_order()
    with pytest.raises(ValueError):
        emails.enqueue(order_id=order.pk, kind="spam")
    assert not OrderEmail.objects.filter(order=order).exclude(kind=Kind.PLACED).exists()


# --- sending ----------------------------------------------------------------------------------


def test_sending_the_same_email_twice_sends_it_once():
    order = make_order()
    emails.enqueue(order_id=order.pk, kind="paid")
    assert emails.send_order_email(order_id=order.pk, kind="paid") is True
    assert emails.send_order_email(order_id=order.pk, kind="paid") is False
    assert len(mail.outbox) == 1
    record = OrderEmail.objects.get(order=order, kind=Kind.PAID)
    assert record.sent_at is not None
    assert record.attempts == 1
    assert record.recipient == order.user.email


def test_an_email_that_is_not_in_the_outbox_is_not_sent():
    order = make_order()
    assert emails.send_order_email(order_id=order.pk, kind="refunded") is False
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_send_failing_at_the_commit_never_undoes_the_order():
    # transaction=True: the real on_commit, where `robust` applies (captured callbacks
    # ignore it). EMAIL_SEND_ON_COMMIT is on under pytest (no broker).
    product = ProductFactory(stock=5)
    down = smtplib.SMTPServerDisconnected("mail server down")
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=down):
        order = make_order(lines=[(product.pk, 2)])
    assert Order.objects.filter(pk=order.pk).exists()
    inventory = Inventory.objects.get(product=product)
    assert (inventory.available, inventory.reserved) == (3, 2)
    record = OrderEmail.objects.get(order=order)
    assert (record.sent_at, record.attempts) == (None, 1)
    assert record.last_error == "SMTPServerDisconnected: mail server down"
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_dispatchers_running_at_once_hand_out_each_email_exactly_once(with_worker):
    orders = [make_order() for _ in range(30)]  # each with its `placed` email, unsent
    handed_out = []
    with mock.patch.object(send_order_email_task, "delay", lambda **task: handed_out.append(task)):
        outcomes = run_concurrently(*[emails.dispatch_due_emails] * 4)
    assert [kind for kind, _ in outcomes] == ["ok"] * 4
    assert sum(count for _, count in outcomes) == 30
    assert sorted(task["order_id"] for task in handed_out) == sorted(str(o.pk) for o in orders)
    assert emails.dispatch_due_emails() == 0  # all leased
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_worker_and_the_dispatcher_skip_an_email_another_worker_is_sending(with_worker):
    order = make_order()
    OrderEmail.objects.filter(order=order).delete()
    emails.enqueue(order_id=order.pk, kind=Kind.PAID)
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
        assert emails.dispatch_due_emails() == 0
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
    assert "1 x Teapot (TEA-9)" in message.body
    # The placed and paid emails show the breakdown, with prices in the money format.
    assert re.search(r"Total: (\$10\.00|10\.00 USD)", message.body)
    assert "<html" in html and "Teapot" in html and "&lt;" not in message.body
