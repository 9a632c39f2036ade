"""How payments reacts to orders (orders.events; subscribed in PaymentsConfig.ready()).

None of them calls Stripe while the order or its stock rows are locked: OrderClosing
is published before the order is locked, the others after the change has committed.
"""

from orders.events import OrderCancelled, OrderClosing, OrderExpired, OrderPaid, OrderPlaced
from payments import services


def start_payment(event: OrderPlaced) -> None:
    """Create the PaymentIntent of a just placed order; checkout returns the order as
    this left it (`payment_pending`, or still `created` when Stripe was unreachable)."""
    event.order = services.start_payment_after_checkout(order=event.order)


def settle_payment(event: OrderClosing) -> None:
    """Before an unpaid order is cancelled or expires: cancel its PaymentIntent, or apply
    the payment that already went through (see services.settle_before_close)."""
    services.settle_before_close(order=event.order, reason=event.reason)


def cancel_payment_intent(event: OrderCancelled | OrderExpired) -> None:
    """An unpaid order ended: a PaymentIntent made for it meanwhile (after the order
    was settled) must not take money any more."""
    services.cancel_open_payment_intent(order=event.order)


def cancel_superseded_payment_intent(event: OrderPaid) -> None:
    """The order was paid: a PaymentIntent still open for it was not what paid it (the
    wallet did) and must not take money. A card payment that went through meanwhile is
    refunded in full (services.apply_payment_intent). A card-paid order's PaymentIntent
    has succeeded, so this is one query and no Stripe call for those."""
    services.cancel_open_payment_intent(order=event.order, reason="duplicate")
