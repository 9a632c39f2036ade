"""Transactional emails about orders: placed, paid, declined, fulfilled, refunded.

Services call `enqueue(order_id=..., kind=...)` inside their transaction; the Celery task
(orders.tasks.send_order_email_task) runs after the commit, so a rolled-back change sends
nothing, and calls `send_order_email`, which sends each (order, kind) at most once.

How "at most once" holds, and the one window where it cannot:
- The OrderEmail row (unique on order and kind) is created first, then locked with
  SELECT ... FOR UPDATE SKIP LOCKED in the transaction that sends the mail and sets
  `sent_at`. A second worker running the same email skips the locked row (the first one
  sends it or fails and retries); a retry after a success finds `sent_at` and stops.
- A send that fails (SMTP refused, timeout) sets nothing; the failure is counted on the
  row and the task retries with backoff.
- If the process dies after the mail server accepted the message but before the COMMIT
  that records it, the row stays unsent and the redelivered task (acks_late) sends it
  again. We chose at-least-once for that window of milliseconds: a receipt or refund
  notice that never arrives is worse than a rare duplicate. Every copy carries the same
  Message-ID (derived from the order and kind), so mail clients that deduplicate by
  Message-ID show it once.
"""

import logging
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from orders.models import Order, OrderEmail

logger = logging.getLogger(__name__)

Kind = OrderEmail.Kind

SUBJECTS = {
    Kind.PLACED: "We received your order {short_id}",
    Kind.PAID: "Payment received for order {short_id}",
    Kind.DECLINED: "Your payment for order {short_id} was declined",
    Kind.FULFILLED: "Order {short_id} is on its way",
    Kind.REFUNDED: "Order {short_id} was refunded",
}


def enqueue(*, order_id, kind: str) -> None:
    """Queue the email once the current transaction commits (never if it rolls back).

    `robust`: if the broker cannot be reached the error is logged and the change that
    asked for the email still succeeds.
    """
    kind = Kind(kind)
    transaction.on_commit(partial(_delay, order_id=str(order_id), kind=kind.value), robust=True)


def _delay(*, order_id: str, kind: str) -> None:
    from orders.tasks import send_order_email_task  # tasks import this module

    send_order_email_task.delay(order_id=order_id, kind=kind)


def send_order_email(*, order_id, kind: str) -> bool:
    """Send the `kind` email about the order unless it was sent already.

    Returns True when this call sent it, False when it had been sent (or another worker
    is sending it right now). A failed send raises after counting the attempt; the
    caller (the task) retries.
    """
    kind = Kind(kind)
    order = Order.objects.select_related("user").get(pk=order_id)
    OrderEmail.objects.get_or_create(
        order_id=order.pk, kind=kind, defaults={"recipient": order.user.email}
    )
    with transaction.atomic():
        email = (
            OrderEmail.objects.select_for_update(skip_locked=True)
            .filter(order_id=order.pk, kind=kind)
            .first()
        )
        if email is None or email.sent_at is not None:
            return False
        try:
            build_message(order=order, kind=kind).send()
        except Exception as exc:
            failure = exc
        else:
            email.recipient = order.user.email
            email.sent_at = timezone.now()
            email.attempts += 1
            email.last_error = ""
            email.save(update_fields=["recipient", "sent_at", "attempts", "last_error"])
            return True
    OrderEmail.objects.filter(pk=email.pk).update(
        attempts=F("attempts") + 1, last_error=f"{type(failure).__name__}: {failure}"[:2000]
    )
    logger.warning("Email %s for order %s not sent: %s", kind, order.pk, failure)
    raise failure


def build_message(*, order: Order, kind: str) -> EmailMultiAlternatives:
    """The email (plain text with an HTML alternative) of `kind` about `order`."""
    kind = Kind(kind)
    # The reverse one-to-one raises a subclass of AttributeError when there is no payment.
    payment = getattr(order, "payment", None)
    context = {
        "order": order,
        "items": list(order.items.all()),
        "payment": payment,
        "kind": kind.value,
        "order_url": f"{settings.SHOP_BASE_URL}{order.get_absolute_url()}",
        "shop_url": settings.SHOP_BASE_URL,
    }
    text = render_to_string(f"emails/order_{kind.value}.txt", context)
    html = render_to_string(f"emails/order_{kind.value}.html", context)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
    message = EmailMultiAlternatives(
        subject=SUBJECTS[kind].format(short_id=order.short_id),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.user.email],
        headers={"Message-ID": f"<order-{order.pk}-{kind.value}@{domain}>"},
    )
    message.attach_alternative(html, "text/html")
    return message
