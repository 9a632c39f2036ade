"""Buy again: put a past order's items back into the customer's cart."""

from dataclasses import dataclass, field

from orders.models import Order
from shop import cart
from shop.models import Product


@dataclass(frozen=True)
class Reordered:
    """What `buy_again` did: `added` (name, quantity) went into the cart, `short` (name,
    quantity added, quantity ordered) only in part, `unavailable` names did not."""

    added: list[tuple[str, int]] = field(default_factory=list)
    short: list[tuple[str, int, int]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)


def buy_again(*, order: Order, user=None, session=None) -> Reordered:
    """Add each line of `order` to the cart (`user`'s or the `session`'s) through
    shop.cart, on top of what the cart holds.

    A product that is no longer for sale or out of stock is left out; one with less
    stock than was ordered is added with what is available now. Nothing is reserved:
    the cart promises nothing about stock, checkout does. The caller has checked that
    the order is the customer's.
    """
    items = list(order.items.order_by("id"))
    products = (
        Product.objects.filter(pk__in=[item.product_id for item in items], is_active=True)
        .select_related("inventory")
        .in_bulk()
    )
    result = Reordered()
    for item in items:
        product = products.get(item.product_id)
        available = product.inventory.available if product is not None else 0
        if available < 1:
            result.unavailable.append(item.name)
            continue
        quantity = min(item.quantity, available)
        cart.add(product_id=product.pk, quantity=quantity, user=user, session=session)
        if quantity < item.quantity:
            result.short.append((product.name, quantity, item.quantity))
        else:
            result.added.append((product.name, quantity))
    return result
