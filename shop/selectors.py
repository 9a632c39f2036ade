"""Read queries over the catalog and stock that views, the API and the dashboard share."""

from django.db.models import Q, QuerySet

from shop.models import Address, Inventory, Product


def products_for_sale(*, search: str = "") -> QuerySet[Product]:
    """Active products that have a stock record, with it, by name; `search` matches
    part of the name or the SKU, ignoring case."""
    products = Product.objects.filter(is_active=True, inventory__isnull=False).select_related(
        "inventory"
    )
    search = search.strip()
    if search:
        products = products.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    return products.order_by("name", "id")


def products_visible_to(*, user) -> QuerySet[Product]:
    """Staff see every product (they may reactivate one); everyone else the active ones."""
    products = Product.objects.select_related("inventory")
    return products if user.is_staff else products.filter(is_active=True)


def stock_levels() -> QuerySet[Inventory]:
    """Every stock record with its product, by product id (staff's inventory list)."""
    return Inventory.objects.select_related("product").order_by("product_id")


def low_stock(*, threshold: int, limit: int) -> list[Inventory]:
    """Active products with at most `threshold` units available, the scarcest first."""
    return list(
        Inventory.objects.filter(product__is_active=True, available__lte=threshold)
        .select_related("product")
        .order_by("available", "product__name")[:limit]
    )


def addresses_of(*, user) -> QuerySet[Address]:
    """The user's address book, newest first."""
    return Address.objects.filter(user=user)
