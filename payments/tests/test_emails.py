"""The order emails payments causes: a declined card (once per order), and one email
per refund with its amount, whoever made it."""

from decimal import Decimal

import pytest
from django.core import mail

from core.tests.helpers import committed
from orders.models import Order, OrderEmail
from orders.tests.factories import make_order
from payments import services as payment_services
from payments.tests.helpers import intent_dict, paid_order, payment_of, sdk
from shop.models import Inventory
from shop.tests.factories import ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

S = Order.Status


def kinds_sent(order) -> list[str]:
    return sorted(
        OrderEmail.objects.filter(order=order, sent_at__isnull=False).values_list("kind", flat=True)
    )


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


# --- refunds: one email per refund, with its amount ----------------------------------------


def _refund_emails(order) -> list[tuple[str, str]]:
    sent = [m for m in mail.outbox if m.subject == f"A refund for order {order.short_id}"]
    return sorted((m.extra_headers["Message-ID"], m.body) for m in sent)


@pytest.mark.django_db(transaction=True)
def test_every_staff_refund_partial_or_full_sends_an_email_with_its_amount(stripe_sim):
    order = paid_order(stripe_sim, ProductFactory(stock=5, price=Decimal("30.00")), quantity=1)
    staff = StaffFactory()

    payment_services.refund_payment(order=order, actor=staff, amount=Decimal("10.00"))
    payment_services.refund_payment(order=order, actor=staff)  # the remaining 20.00

    sent = _refund_emails(order)
    assert len(sent) == 2
    assert "We refunded $10.00 for order" in sent[0][1] + sent[1][1]
    assert "We refunded $20.00 for order" in sent[0][1] + sent[1][1]
    assert len({message_id for message_id, _ in sent}) == 2  # two emails, not one repeated
    assert (
        OrderEmail.objects.filter(order=order, kind="refunded", sent_at__isnull=False).count() == 2
    )


@pytest.mark.django_db(transaction=True)
def test_the_automatic_refund_of_a_late_payment_sends_an_email_saying_why():
    # Stripe is unreachable here: the order never got a PaymentIntent the shop knew of,
    # so it expired; then a payment for it turns up and the stock is gone.
    order = make_order(status=S.EXPIRED)
    intent = intent_dict(order)
    Inventory.objects.filter(product__in=order.items.values("product")).update(available=0)

    payment_services.apply_payment_intent(payment_intent=intent)

    ((_, body),) = _refund_emails(order)
    assert f"We refunded ${order.total} for order {order.short_id}" in body
    assert payment_services.LATE_PAYMENT_NOTE in body


@pytest.mark.django_db(transaction=True)
def test_a_refund_made_in_stripes_dashboard_sends_an_email_too(stripe_sim):
    order = paid_order(stripe_sim, ProductFactory(stock=5, price=Decimal("30.00")), quantity=1)
    intent_id = payment_of(order).stripe_payment_intent_id
    refund = sdk(stripe_sim).v1.refunds.create(params={"payment_intent": intent_id, "amount": 500})

    payment_services.apply_refund(refund=refund.to_dict())
    payment_services.apply_refund(refund=refund.to_dict())  # the webhook, again

    ((_, body),) = _refund_emails(order)
    assert f"We refunded $5.00 for order {order.short_id}" in body
