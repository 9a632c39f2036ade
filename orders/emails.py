"""Transactional emails about orders: placed, paid, declined, fulfilled, cancelled,
expired, and one per refund (with its amount).

An outbox. Services call `enqueue(order_id=..., kind=...)` inside their transaction; it
inserts the (order, kind, reference) OrderEmail row there, so the email exists exactly when the
change committed, and a broker that is down at that moment loses nothing. The request
itself publishes nothing (a Celery publish cost more Python than the checkout's stock
update). Every few seconds beat runs `dispatch_due_emails`, which hands each due row to
a worker (`orders.tasks.send_order_email`), which calls `send_order_email`.

Without a broker (`EMAIL_SEND_ON_COMMIT`, on when tasks run eagerly: `make run`, the
tests) each email is sent in-process right after its commit instead.

How "at most once" holds, and the one window where it cannot:
- The dispatcher takes due rows with SKIP LOCKED and moves their `next_attempt_at` a
  lease ahead, so the next sweep does not hand them out again while a worker has them.
- The worker locks the row with SELECT ... FOR UPDATE SKIP LOCKED in the transaction
  that sends the mail and sets `sent_at`. A second worker with the same email skips the
  locked row; one that comes after a success finds `sent_at` and stops.
- A send that fails (SMTP refused, timeout) counts the attempt on the row and sets its
  `next_attempt_at` with exponential backoff; after `OrderEmail.MAX_ATTEMPTS` nobody
  tries again (until staff ask) and the admin shows the error.
- If the process dies after the mail server accepted the message but before the COMMIT
  that records it, the row stays unsent and is sent again once its lease ends. We chose
  at-least-once for that window of milliseconds: a receipt or refund notice that never
  arrives is worse than a rare duplicate. Every copy carries the same Message-ID
  (derived from the order, kind and reference), so mail clients that deduplicate by Message-ID
  show it once.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit.actions import Action, Entity
from audit.services import Change, record_many
from orders.guest import order_link
from orders.metrics import count_email_send
from orders.models import Order, OrderEmail
from orders.selectors import address_lines

logger = logging.getLogger(__name__)

Kind = OrderEmail.Kind

SUBJECTS = {
    Kind.PLACED: _("We received your order {short_id}"),
    Kind.PAID: _("Payment received for order {short_id}"),
    Kind.DECLINED: _("Your payment for order {short_id} was declined"),
    Kind.FULFILLED: _("Order {short_id} is on its way"),
    Kind.REFUNDED: _("A refund for order {short_id}"),
    Kind.CANCELLED: _("Order {short_id} is cancelled"),
    Kind.EXPIRED: _("Your reservation for order {short_id} has expired"),
}

DISPATCH_BATCH = 500
# How long a dispatched email is left to its worker before a sweep hands it out again.
LEASE = timedelta(minutes=5)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failed send: 30 s, 60 s, 120 s ... at most 1 hour."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def enqueue(*, order_id, kind: str, reference: str = "", context: dict | None = None) -> None:
    """Put the `kind` email about the order in the outbox, in the caller's transaction.

    `reference` tells apart emails of a kind an order can get several of (each refund);
    `context` carries what the email says beyond the order (a refund's amount). Asking
    twice for one (order, kind, reference) keeps the first row: each is sent once.
    """
    kind = Kind(kind)
    OrderEmail.objects.bulk_create(
        [OrderEmail(order_id=order_id, kind=kind, reference=reference, context=context or {})],
        ignore_conflicts=True,
    )
    if settings.EMAIL_SEND_ON_COMMIT:

        def send_now():
            send_order_email(order_id=order_id, kind=kind, reference=reference)

        # `robust`: a failed send is logged (and recorded on the row); the change stands.
        # A named function, not a partial: Django logs a robust callback's failure by its
        # __qualname__, which a partial lacks, and that AttributeError would escape.
        transaction.on_commit(send_now, robust=True)


def dispatch_due_emails(*, limit: int = DISPATCH_BATCH) -> int:
    """Hand up to `limit` unsent emails that are due to workers; returns how many.

    Rows another dispatcher or a worker holds are skipped. The tasks are published after
    the commit, so a worker never finds its row still locked by this transaction.
    """
    from orders.tasks import send_order_email_task  # tasks import this module

    now = timezone.now()
    with transaction.atomic():
        due = list(
            OrderEmail.objects.select_for_update(skip_locked=True)
            .filter(
                sent_at__isnull=True,
                attempts__lt=OrderEmail.MAX_ATTEMPTS,
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at")
            .values_list("pk", "order_id", "kind", "reference")[:limit]
        )
        OrderEmail.objects.filter(pk__in=[pk for pk, *_ in due]).update(next_attempt_at=now + LEASE)
        for _, order_id, kind, reference in due:
            transaction.on_commit(
                partial(
                    send_order_email_task.delay,
                    order_id=str(order_id),
                    kind=kind,
                    reference=reference,
                )
            )
    return len(due)


def retry_unsent_emails(*, order_ids, actor) -> int:
    """Give every unsent email of these orders a fresh round of attempts, due now.

    For staff, once the cause of failures (a bad address, the mail server) is fixed;
    mostly for emails that gave up after their last attempt. The attempts they had are kept
    in the audit log. Returns how many emails will be sent again.
    """
    with transaction.atomic():
        unsent = list(
            OrderEmail.objects.select_for_update()
            .filter(order_id__in=order_ids, sent_at__isnull=True)
            .order_by("pk")
        )
        OrderEmail.objects.filter(pk__in=[e.pk for e in unsent]).update(
            attempts=0, next_attempt_at=timezone.now()
        )
        record_many(
            changes=[
                Change(
                    Action.ORDER_EMAIL_RETRIED,
                    Entity.ORDER_EMAIL,
                    e.pk,
                    before={"attempts": e.attempts, "last_error": e.last_error},
                    after={"attempts": 0, "order": str(e.order_id), "kind": e.kind},
                )
                for e in unsent
            ],
            actor=actor,
        )
    return len(unsent)


@count_email_send
def send_order_email(*, order_id, kind: str, reference: str = "") -> bool:
    """Send the `kind` email about the order (of `reference`) unless it was sent already.

    Returns True when this call sent it, False when it had been sent, is not in the
    outbox, or another worker is sending it right now. A failed send raises after
    recording the attempt and when to try again.
    """
    kind = Kind(kind)
    order = Order.objects.select_related("user").get(pk=order_id)
    with transaction.atomic():
        email = (
            OrderEmail.objects.select_for_update(skip_locked=True)
            .filter(order_id=order.pk, kind=kind, reference=reference)
            .first()
        )
        if email is None or email.sent_at is not None:
            return False
        try:
            build_message(order=order, kind=kind, reference=reference, extra=email.context).send()
        except Exception as exc:
            failure = exc
        else:
            email.recipient = order.user.email
            email.sent_at = timezone.now()
            email.attempts += 1
            email.last_error = ""
            email.save(update_fields=["recipient", "sent_at", "attempts", "last_error"])
            return True
    email.attempts += 1
    OrderEmail.objects.filter(pk=email.pk).update(
        attempts=F("attempts") + 1,
        last_error=f"{type(failure).__name__}: {failure}"[:2000],
        next_attempt_at=timezone.now() + retry_delay(email.attempts),
    )
    if email.gave_up:
        logger.error("Email %s for order %s not sent, giving up: %s", kind, order.pk, failure)
    else:
        logger.warning("Email %s for order %s not sent: %s", kind, order.pk, failure)
    raise failure


def build_message(
    *, order: Order, kind: str, reference: str = "", extra: dict | None = None
) -> EmailMultiAlternatives:
    """The email (plain text with an HTML alternative) of `kind` about `order`; `extra`
    is what its outbox row says beyond the order (a refund's amount). It speaks the
    language the customer shopped in (the worker has no request to take one from)."""
    with translation.override(order.language or settings.LANGUAGE_CODE):
        return _message(order=order, kind=Kind(kind), reference=reference, extra=extra)


def _message(*, order: Order, kind: Kind, reference: str, extra: dict | None):
    order_url = order_link(order) if order.user.is_guest else order.get_absolute_url()
    context = {
        **(extra or {}),
        "order": order,
        "items": list(order.items.all()),
        "address_lines": address_lines(order.shipping_address),
        "kind": kind.value,
        # A guest has no password to sign in with: their link signs them in (orders.guest).
        "order_url": f"{settings.SHOP_BASE_URL}{order_url}",
        "shop_url": settings.SHOP_BASE_URL,
        "shop_name": settings.SHOP_NAME,
    }
    text = render_to_string(f"emails/order_{kind.value}.txt", context)
    html = render_to_string(f"emails/order_{kind.value}.html", context)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
    message = EmailMultiAlternatives(
        subject=str(SUBJECTS[kind]).format(short_id=order.short_id),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.user.email],
        headers={"Message-ID": f"<order-{order.pk}-{kind.value}{reference}@{domain}>"},
    )
    message.attach_alternative(html, "text/html")
    return message
