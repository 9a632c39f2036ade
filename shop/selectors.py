"""Read queries over the catalog and stock that views, the API and the dashboard share."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from shop.models import Address, Category, Inventory, Product


def products_for_sale(*, category: Category | None = None) -> QuerySet[Product]:
    """Active standalone products that have a stock record, with it, and active parent
    products with their active variants (and theirs), by name; `category` keeps the
    products in it or in any category below it. The catalog page and `GET products`
    search, filter and sort them with shop.filters."""
    products = (
        Product.objects.filter(is_active=True)
        .filter(Q(inventory__isnull=False) | Q(structure=Product.Structure.PARENT))
        .exclude(structure=Product.Structure.CHILD)  # shown on their parent's page
        .select_related("inventory", "merchant")
        .prefetch_related("images", _active_variants())
    )
    if category is not None:
        products = products.filter(in_subtree(category))
    return products.order_by("name", "id")


def in_subtree(category: Category) -> Exists:
    """Products in `category` or a descendant: the subtree is every path that starts
    with the category's (treebeard's materialized path), so one EXISTS, no duplicates."""
    return Exists(
        Product.categories.through.objects.filter(
            product_id=OuterRef("pk"), category__path__startswith=category.path
        )
    )


def category_tree() -> list[Category]:
    """Every category, depth first (a parent before its children, siblings by name)."""
    return list(Category.objects.get_tree())


def parent_slugs(tree: list[Category]) -> dict[int, str]:
    """Each category's parent's slug by category id, read off the depth-first `tree`
    (a parent comes before its children), without a query per node."""
    by_path = {category.path: category.slug for category in tree}
    return {
        category.pk: by_path[category.path[: -Category.steplen]]
        for category in tree
        if category.depth > 1
    }


def category_by_slug(*, slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def category_ancestors(category: Category) -> QuerySet[Category]:
    """The categories above `category`, from the root down (its breadcrumbs)."""
    return Category.objects.get_ancestors(category)


def child_categories(category: Category | None) -> QuerySet[Category]:
    """The categories one level below `category`, or the top level for None, by name."""
    if category is None:
        return Category.objects.get_root_nodes()
    return Category.objects.get_children(category)


def product_breadcrumbs(product: Product) -> list[Category]:
    """The trail to a product's page: its first category (in tree order) and that
    category's ancestors, from the root down; empty for a product in no category."""
    first = product.categories.order_by("path").first()
    return [*Category.objects.get_ancestors(first), first] if first else []


def _active_variants() -> Prefetch:
    """A parent's active variants with their stock, in the order staff created them."""
    return Prefetch(
        "variants",
        queryset=Product.objects.filter(is_active=True).select_related("inventory").order_by("id"),
    )


def products_visible_to(*, user) -> QuerySet[Product]:
    """Staff see every product (they may reactivate one); everyone else the active ones."""
    products = Product.objects.select_related("inventory", "parent", "merchant").prefetch_related(
        "images", _active_variants()
    )
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
