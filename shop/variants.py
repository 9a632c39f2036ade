"""Products with options and their variants (django-oscar's parent and child products).

A parent (`Product.Structure.PARENT`) names its options (`option_names`, e.g. Size and
Colour); each variant (`CHILD`) is one combination of values with its own SKU, price
and stock. Variants are created through `shop.services.create_product`, so each gets
its inventory row and its initial stock audited exactly like a standalone product, and
carts, checkout and orders never learn the difference. Changing a variant's price or
visibility goes through `shop.services.update_product`, which keeps the parent's "from"
price.
"""

from decimal import Decimal

from django.db import transaction

from shop.models import Product
from shop.services import create_product, refresh_parent_price


def create_parent_product(
    *,
    sku: str,
    name: str,
    option_names: list[str],
    actor,
    description: str = "",
    is_active: bool = True,
    requires_shipping: bool = True,
    merchant=None,
) -> Product:
    """A product whose options (`option_names`, in display order) its variants fill in,
    the shop's or `merchant`'s. Its price stays 0.00 until its first variant gives it
    one."""
    return create_product(
        sku=sku,
        name=name,
        price=Decimal("0.00"),
        description=description,
        is_active=is_active,
        requires_shipping=requires_shipping,
        merchant=merchant,
        structure=Product.Structure.PARENT,
        option_names=[n.strip() for n in option_names],
        actor=actor,
    )


@transaction.atomic
def create_variant(
    *,
    parent: Product,
    sku: str,
    options: dict[str, str],
    price: Decimal,
    actor,
    initial_stock: int = 0,
    is_active: bool = True,
) -> Product:
    """One combination of the parent's option values, with its own SKU, price and stock.

    Named after the parent and its values ("Tee (M / Blue)"), which is what carts and
    orders show and snapshot. It is sold by the parent's merchant (their earnings come
    from it) and ships as the parent does. Raises ValidationError for values that do not
    match the parent's options or repeat another variant's.
    """
    options = {name: str(value).strip() for name, value in options.items()}
    label = " / ".join(options.get(name, "") for name in parent.option_names)
    variant = create_product(
        sku=sku,
        name=f"{parent.name} ({label})",
        price=price,
        description="",
        initial_stock=initial_stock,
        is_active=is_active,
        structure=Product.Structure.CHILD,
        parent=parent,
        options=options,
        merchant=parent.merchant,
        requires_shipping=parent.requires_shipping,
        actor=actor,
    )
    refresh_parent_price(parent=parent)
    return variant
