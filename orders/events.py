"""What happens to orders, published for the apps above `orders` (core.events).

`orders` never imports those apps; they subscribe to these in their AppConfig.ready()
(payments starts and cancels PaymentIntents). Each event carries the order as the
service left it. Subscribers must be idempotent: a checkout replayed while its order
is still `created` publishes OrderPlaced again, so the PaymentIntent gets another try.
"""

from dataclasses import dataclass

from core.events import Event
from orders.models import Order


@dataclass
class OrderPlaced(Event):
    """Checkout committed the order and reserved its stock; it awaits a PaymentIntent.

    Delivered after the commit, before `place_order()` returns. A subscriber that moves
    the order on (payments: to `payment_pending`, with its payment) puts the order as
    it left it in `order`; checkout returns `event.order`.
    """

    order: Order


@dataclass(frozen=True)
class OrderClosing(Event):
    """An unpaid order is about to be cancelled (`reason` "cancel") or to expire
    ("expire"). Published before the order is locked, outside any transaction, to
    subscribers that run at once: they settle what they hold for the order with the
    outside world before it ends. Payments cancels the PaymentIntent at Stripe, or, if
    the payment already went through, applies it (the order becomes paid and is not
    closed). A subscriber that cannot settle yet raises a ShopError (a payment still
    processing, Stripe unreachable): a cancel then fails with it, an expiry waits.
    """

    order: Order
    reason: str


@dataclass(frozen=True)
class OrderPaying(Event):
    """The order is becoming paid (on time or late) in the current transaction: its row
    is locked, its stock not yet touched. For subscribers that run immediately and must
    be atomic with the payment (wallets credits the merchants' earnings): they take
    their row locks here, after the order's and before the inventory rows, as the
    global lock order wants. An error they raise undoes the payment."""

    order: Order


@dataclass(frozen=True)
class OrderRefunding(Event):
    """The order is becoming refunded in full in the current transaction (row locked,
    goods not yet back in stock): like OrderPaying, for immediate subscribers (wallets
    reverses the merchants' earnings)."""

    order: Order


@dataclass(frozen=True)
class OrderPaid(Event):
    """The payment succeeded (on time or late) and the stock left the shop."""

    order: Order


@dataclass(frozen=True)
class OrderCancelled(Event):
    """The customer or staff cancelled an unpaid order; its stock is released."""

    order: Order


@dataclass(frozen=True)
class OrderExpired(Event):
    """The reservation of an unpaid order ran out; its stock is released."""

    order: Order


@dataclass(frozen=True)
class OrderFailed(Event):
    """The payment ended for good without money; the stock is released."""

    order: Order


@dataclass(frozen=True)
class OrderRefunded(Event):
    """The order's payment was refunded in full."""

    order: Order
