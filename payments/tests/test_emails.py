"""The order email payments causes: a declined card, sent once per order."""

import pytest
from django.core import mail

from core.tests.helpers import committed
from orders.models import Order, OrderEmail
from orders.tests.factories import make_order
from payments import services as payment_services
from payments.tests.helpers import intent_dict

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
