"""Checkout: turn a list of (product, quantity) lines into an order with its stock reserved."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from audit.actions import Action, Entity
from audit.services import Change
from core import events
from orders import emails
from orders.events import OrderPlaced
from orders.exceptions import IdempotencyConflict
from orders.metrics import count_checkout
from orders.models import Order, OrderItem
from pricing import coupons
from pricing.exceptions import ShippingRequired
from pricing.totals import Quote, price_order
from shop import cart, inventory
from shop.exceptions import InvalidCart
from shop.models import Address, Product

MAX_QUANTITY = 1000
MAX_LINES = 100


@dataclass(frozen=True)
class Delivery:
    """What the customer chose beside the lines: all optional (API.md's checkout body)."""

    shipping_address_id: int | None = None
    shipping_method: str | None = None
    coupon: str | None = None

    def canonical(self) -> str:
        coupon = (self.coupon or "").strip().lower()
        return f"{self.shipping_address_id or ''}|{self.shipping_method or ''}|{coupon}"


NO_DELIVERY = Delivery()


@count_checkout  # metrics: one count per checkout, by outcome
def place_order(
    *,
    user,
    lines: Iterable[tuple[int, int]],
    idempotency_key: str | None = None,
    delivery: Delivery = NO_DELIVERY,
) -> Order:
    """Place an order for `lines` and reserve its stock, all or nothing.

    In one transaction: read and check the products, insert the order, its items and
    its "order placed" email (the outbox), then lock the inventory rows in product-id
    order (one query), check and move the stock to reserved in one UPDATE and write
    every audit event in one INSERT. The lock is taken last so it is held as briefly as
    possible. Any error rolls all of it back.

    `delivery` carries the address, shipping method and coupon: the order is priced by
    pricing.totals (quote_order shows the same figures) and keeps a snapshot of them. A
    coupon's use is taken under its row lock after the order row is inserted and before
    the inventory rows are locked (the global lock order).

    With an `idempotency_key`, the same user sending the same lines and delivery again
    gets the order made the first time (`order.replayed` is True); the same key with
    another request raises IdempotencyConflict. Concurrent requests with one key make one
    order: the unique constraint on (user, key) lets one insert win and the others replay
    it.

    Raises InvalidCart (empty, unknown or inactive product, duplicate lines, quantity
    outside 1..1000), InsufficientStock (with product_id, requested, available) and the
    pricing errors (ShippingRequired, ShippingUnavailable, InvalidCoupon,
    CouponExhausted); any of them leaves nothing reserved and no use counted.
    """
    quantities = _validate_lines(lines)
    fingerprint = _fingerprint(quantities, delivery)
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= 255:
            raise InvalidCart("The idempotency key must be 1 to 255 characters.")
        existing = _replay(user=user, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if existing is not None:
            if existing.status == Order.Status.CREATED:
                existing = _start_payment(existing)  # the first try could not reach Stripe
            return existing
    try:
        order = _place(
            user=user,
            quantities=quantities,
            delivery=delivery,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
    except IntegrityError:
        # Another request with the same key committed first.
        existing = (
            _replay(user=user, idempotency_key=idempotency_key, fingerprint=fingerprint)
            if idempotency_key is not None
            else None
        )
        if existing is None:
            raise
        return existing
    order.replayed = False
    return _start_payment(order)


def _start_payment(order: Order) -> Order:
    """Publish OrderPlaced; payments makes the order payable (orders.events).

    Delivered after the commit, never inside it: no Stripe call while stock rows are
    locked. Inside a caller's open transaction the caller gets the order as it is now
    (`created`), and payment starts once that transaction commits.
    """
    replayed = order.replayed
    placed = OrderPlaced(order=order)
    events.publish(placed)
    order = placed.order
    order.replayed = replayed
    return order


@count_checkout
def checkout_cart(
    *, user, idempotency_key: str | None = None, delivery: Delivery = NO_DELIVERY
) -> Order:
    """Place an order for everything in the user's cart.

    The HTML checkout and the API's `{}` checkout both come here. The cart keeps its
    lines: they leave it when the order is paid (orders.services.mark_paid), so a
    declined, expired or cancelled order can be tried again. A retry with the same
    idempotency key after the paid order emptied the cart gets back the order it made.
    """
    lines = cart.get_cart(user=user).checkout_lines
    if not lines and idempotency_key:
        placed = Order.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if placed is not None:
            placed.replayed = True
            return placed
    return place_order(user=user, lines=lines, idempotency_key=idempotency_key, delivery=delivery)


def _validate_lines(lines) -> dict[int, int]:
    quantities: dict[int, int] = {}
    try:
        pairs = [(product_id, quantity) for product_id, quantity in lines]
    except (TypeError, ValueError):
        raise InvalidCart("Each line needs a product and a quantity.") from None
    if not pairs:
        raise InvalidCart("The cart is empty.")
    if len(pairs) > MAX_LINES:
        raise InvalidCart(f"An order has at most {MAX_LINES} lines.")
    for product_id, quantity in pairs:
        if type(product_id) is not int or type(quantity) is not int:
            raise InvalidCart("Product ids and quantities must be whole numbers.")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidCart(f"Quantity must be between 1 and {MAX_QUANTITY}.")
        if product_id in quantities:
            raise InvalidCart(f"Product {product_id} appears on more than one line.")
        quantities[product_id] = quantity
    return quantities


def _fingerprint(quantities: dict[int, int], delivery: Delivery) -> str:
    canonical = ",".join(f"{pid}x{q}" for pid, q in sorted(quantities.items()))
    if delivery != NO_DELIVERY:  # orders placed before v1.1 keep their fingerprints
        canonical += f"/{delivery.canonical()}"
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(*, user, idempotency_key: str, fingerprint: str) -> Order | None:
    order = Order.objects.filter(user=user, idempotency_key=idempotency_key).first()
    if order is None:
        return None
    if order.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    order.replayed = True
    return order


def quote_order(
    *, user, lines: Iterable[tuple[int, int]], delivery: Delivery = NO_DELIVERY
) -> Quote:
    """What placing this order would cost: the same checks and figures as place_order,
    without reserving anything or counting a coupon use. Raises the same errors; its
    InsufficientStock reads the stock of this moment, unlocked (a checkout right after
    may still find less)."""
    quantities = _validate_lines(lines)
    _items, quote = _price(user=user, quantities=quantities, delivery=delivery)
    inventory.check_available(quantities=quantities)
    return quote


def quote_cart(*, user, delivery: Delivery = NO_DELIVERY) -> Quote:
    """quote_order for everything in the user's cart."""
    return quote_order(user=user, lines=cart.get_cart(user=user).checkout_lines, delivery=delivery)


def _price(*, user, quantities: dict[int, int], delivery: Delivery):
    """The order's items (unsaved, price snapshots) and its Quote (pricing.totals)."""
    # Only the columns an order item copies (not the description), and without the
    # model's default ordering by name, which a lookup by id has no use for.
    products = (
        Product.objects.purchasable()
        .filter(pk__in=quantities)
        .only("sku", "name", "price", "currency", "requires_shipping")
        .order_by()
        .in_bulk()
    )
    for product_id in sorted(quantities):
        product = products.get(product_id)
        if product is None:
            raise InvalidCart(f"Product {product_id} does not exist or is not for sale.")
        if product.currency != settings.SHOP_CURRENCY:
            raise InvalidCart(f"Product {product_id} is not sold in {settings.SHOP_CURRENCY}.")
    items = [
        OrderItem(
            product_id=pid,
            sku=products[pid].sku,
            name=products[pid].name,
            unit_price=products[pid].price,
            quantity=q,
            line_total=products[pid].price * q,
        )
        for pid, q in sorted(quantities.items())
    ]
    address = None
    if delivery.shipping_address_id is not None:
        address = Address.objects.filter(user=user, pk=delivery.shipping_address_id).first()
        if address is None:
            raise ShippingRequired(_("This address is not in your address book."))
    quote = price_order(
        user=user,
        subtotal=sum((item.line_total for item in items), Decimal("0.00")),
        requires_shipping=any(products[pid].requires_shipping for pid in quantities),
        address=address,
        shipping_method_code=delivery.shipping_method,
        coupon_code=delivery.coupon,
    )
    return items, quote


@transaction.atomic
def _place(*, user, quantities, delivery, idempotency_key, fingerprint) -> Order:
    # Everything that needs no lock comes first, so the stock rows stay locked only for
    # the lock itself, the stock update, the audit insert and the commit. Rows inserted
    # here are invisible to others until the commit and vanish on any error below.
    items, quote = _price(user=user, quantities=quantities, delivery=delivery)
    totals = quote.totals
    method = quote.shipping_method
    order = Order(
        user=user,
        currency=settings.SHOP_CURRENCY,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        shipping_total=totals.shipping_total,
        tax_total=totals.tax_total,
        total=totals.total,
        shipping_address=quote.address,
        shipping_method_code=method.code if method else "",
        shipping_method_name=method.name if method else "",
        coupon=quote.coupon,
        coupon_code=quote.coupon.code if quote.coupon else "",
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        expires_at=timezone.now() + settings.RESERVATION_TTL,
        language=get_language() or "",
    )
    # A concurrent request with the same idempotency key waits here on the unique
    # index, before touching stock, and replays this order once it commits.
    order.save(force_insert=True)
    for item in items:
        item.order = order
    OrderItem.objects.bulk_create(items)
    _keep_items(order, items)
    emails.enqueue(order_id=order.pk, kind=emails.Kind.PLACED)
    created = Change(
        Action.ORDER_CREATED,
        Entity.ORDER,
        order.pk,
        after={"status": order.status, "total": str(order.total), "currency": order.currency},
    )
    if quote.coupon is not None:
        # Lock order: the (new) order row, the coupon row, then the inventory rows.
        coupons.redeem(coupon=quote.coupon, user=user, order_id=order.pk)
    inventory.reserve(
        quantities=quantities,
        actor=user,
        reason=f"order {order.pk}",
        locked=inventory.lock(product_ids=quantities),
        record_also=[created],
    )
    return order


def _keep_items(order: Order, items: list[OrderItem]) -> None:
    """Give `order.items.all()` the items just inserted, as prefetch_related would, so
    the checkout's answer does not read back what it wrote."""
    queryset = OrderItem.objects.filter(order=order)
    queryset._result_cache, queryset._prefetch_done = items, True
    order._prefetched_objects_cache = {"items": queryset}
