from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from core import events
        from orders.events import (
            OrderCancelled,
            OrderClosing,
            OrderExpired,
            OrderPaid,
            OrderPlaced,
        )
        from payments import subscribers

        events.subscribe(OrderPlaced, subscribers.start_payment)
        events.subscribe(OrderClosing, subscribers.settle_payment, immediately=True)
        events.subscribe(OrderCancelled, subscribers.cancel_payment_intent)
        events.subscribe(OrderExpired, subscribers.cancel_payment_intent)
        events.subscribe(OrderPaid, subscribers.cancel_superseded_payment_intent)
