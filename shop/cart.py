"""Carts: a signed-in customer's in the database, an anonymous visitor's in the session.

Every function takes either `user` (authenticated) or `session`; views pass
`user=request.user` when signed in and `session=request.session` otherwise. On login
the session cart is merged into the user's (`merge_session_cart`), keeping the larger
quantity per product. A cart promises nothing about stock: checkout does.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from shop.exceptions import InvalidCart
from shop.models import Cart, CartItem, Product

SESSION_KEY = "cart"
MAX_QUANTITY = 1000


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return self.product.price * self.quantity

    @property
    def currency(self) -> str:
        return self.product.currency

    @property
    def available(self) -> int:
        return self.product.inventory.available

    @property
    def exceeds_stock(self) -> bool:
        return self.quantity > self.available


@dataclass(frozen=True)
class CartContents:
    lines: list[CartLine] = field(default_factory=list)
    currency: str = settings.SHOP_CURRENCY

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0.00"))

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def checkout_lines(self) -> list[tuple[int, int]]:
        return [(line.product.pk, line.quantity) for line in self.lines]


def _products():
    # A variant's parent: its name and page (the line links to the parent's page).
    return Product.objects.purchasable().select_related("inventory", "parent")


def get_cart(*, user=None, session=None) -> CartContents:
    """The cart's lines with their products and stock, in two queries at most.

    Products that were deactivated since they were added are left out.
    """
    quantities = _quantities(user=user, session=session)
    if not quantities:
        return CartContents()
    products = _products().filter(pk__in=quantities).order_by("name", "id")
    return CartContents(lines=[CartLine(p, quantities[p.pk]) for p in products])


def count_items(*, user=None, session=None) -> int:
    """Units in the cart, for the header badge."""
    return sum(_quantities(user=user, session=session).values())


def set_quantity(*, product_id: int, quantity: int, user=None, session=None) -> None:
    """Put `quantity` units of a product in the cart; 0 removes it.

    Raises InvalidCart for a negative or too large quantity or an unknown product.
    """
    if type(quantity) is not int or not 0 <= quantity <= MAX_QUANTITY:
        raise InvalidCart(f"Quantity must be between 0 and {MAX_QUANTITY}.")
    if quantity and not _products().filter(pk=product_id).exists():
        raise InvalidCart(f"Product {product_id} does not exist or is not for sale.")
    if user is not None:
        cart, _ = Cart.objects.get_or_create(user=user)
        if quantity:
            CartItem.objects.update_or_create(
                cart=cart, product_id=product_id, defaults={"quantity": quantity}
            )
        else:
            CartItem.objects.filter(cart=cart, product_id=product_id).delete()
        return
    stored = dict(session.get(SESSION_KEY, {}))
    if quantity:
        stored[str(product_id)] = quantity
    else:
        stored.pop(str(product_id), None)
    session[SESSION_KEY] = stored


def add(*, product_id: int, quantity: int, user=None, session=None) -> None:
    """Add `quantity` units to what the cart already holds of a product."""
    current = _quantities(user=user, session=session).get(product_id, 0)
    set_quantity(
        product_id=product_id,
        quantity=min(current + quantity, MAX_QUANTITY) if quantity > 0 else quantity,
        user=user,
        session=session,
    )


def clear(*, user=None, session=None) -> None:
    if user is not None:
        CartItem.objects.filter(cart__user=user).delete()
    else:
        session.pop(SESSION_KEY, None)


@transaction.atomic
def remove_purchased(*, user_id: int, quantities: dict[int, int]) -> None:
    """Take what a paid order bought out of the user's cart.

    Each product's line drops by the units paid for and goes when nothing is left, so
    what the customer added since they placed the order (more units, other products)
    stays. The lines are locked (after the order's stock rows, in product-id order), so
    a concurrent edit of the cart waits and is not lost.
    """
    items = list(
        CartItem.objects.select_for_update()
        .filter(cart__user_id=user_id, product_id__in=quantities)
        .order_by("product_id")
    )
    gone = [item.pk for item in items if item.quantity <= quantities[item.product_id]]
    kept = [item for item in items if item.pk not in gone]
    for item in kept:
        item.quantity -= quantities[item.product_id]
    CartItem.objects.filter(pk__in=gone).delete()
    CartItem.objects.bulk_update(kept, ["quantity"])


@transaction.atomic
def merge_session_cart(*, session, user) -> None:
    """Move an anonymous cart into the user's, keeping the larger quantity per product."""
    incoming = _quantities(session=session)
    if not incoming:
        return
    cart, _ = Cart.objects.get_or_create(user=user)
    existing = _quantities(user=user)
    valid = set(_products().filter(pk__in=incoming).values_list("pk", flat=True))
    for product_id, quantity in incoming.items():
        if product_id in valid and quantity > existing.get(product_id, 0):
            CartItem.objects.update_or_create(
                cart=cart, product_id=product_id, defaults={"quantity": quantity}
            )
    session.pop(SESSION_KEY, None)


def _quantities(*, user=None, session=None) -> dict[int, int]:
    if user is not None:
        return dict(CartItem.objects.filter(cart__user=user).values_list("product_id", "quantity"))
    if session is None:
        return {}
    return {int(pid): int(q) for pid, q in session.get(SESSION_KEY, {}).items()}
