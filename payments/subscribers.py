"""How payments reacts to orders (orders.events; subscribed in PaymentsConfig.ready()).

Both run after the order's change has committed, so Stripe is never called while the
order or its stock rows are locked.
"""

from orders.events import OrderCancelled, OrderExpired, OrderPlaced
from payments import services


def start_payment(event: OrderPlaced) -> None:
    """Create the PaymentIntent of a just placed order; checkout returns the order as
    this left it (`payment_pending`, or still `created` when Stripe was unreachable)."""
    event.order = services.start_payment_after_checkout(order=event.order)


def cancel_payment_intent(event: OrderCancelled | OrderExpired) -> None:
    """An unpaid order ended: its PaymentIntent must not take money any more."""
    services.cancel_open_payment_intent(order=event.order)
