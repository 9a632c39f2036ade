"""Orders for tests, made only through the real services (never by writing `status`).

`make_order(user=..., lines=..., status=...)` places the order with `place_order` and then
runs the services that lead to `status`, so stock and audit events are what production
would have at that point.
"""

from datetime import timedelta

from django.utils import timezone

from orders import services
from orders.checkout import place_order
from orders.models import Order
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

S = Order.Status


def make_due(order: Order) -> None:
    """Let the order's reservation run out (the deadline is data, not state)."""
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def _start(order):
    return services.start_payment(order=order)


def _pay(order):
    return services.mark_paid(order=_start(order))


def _fulfil(order):
    return services.fulfil_order(order=_pay(order), actor=StaffFactory())


def _refund(order):
    return services.refund_order(order=_pay(order), actor=StaffFactory())


def _cancel(order):
    return services.cancel_order(order=order, actor=order.user)


def _expire(order):
    make_due(order)
    assert services.expire_order(order=order) is True
    return order


def _fail(order):
    return services.fail_order(order=_start(order), reason="card expired")


_PATHS = {
    S.CREATED: lambda order: order,
    S.PAYMENT_PENDING: _start,
    S.PAID: _pay,
    S.FULFILLED: _fulfil,
    S.REFUNDED: _refund,
    S.CANCELLED: _cancel,
    S.EXPIRED: _expire,
    S.FAILED: _fail,
}


def make_order(*, user=None, lines=None, status=S.CREATED, idempotency_key=None) -> Order:
    """Place an order for `lines` ([(product_id, quantity)]) and move it to `status`.

    Without `lines`, one unit of a new product (10 in stock) is ordered.
    Returns a fresh copy of the order read from the database.
    """
    user = user if user is not None else UserFactory()
    if lines is None:
        lines = [(ProductFactory(stock=10).pk, 1)]
    order = place_order(user=user, lines=lines, idempotency_key=idempotency_key)
    _PATHS[S(status)](order)
    order = Order.objects.get(pk=order.pk)
    assert order.status == status
    return order
