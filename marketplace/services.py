"""What an approved merchant does with their own products: create, change, adjust stock.

Each goes through the shop's own services (shop.services, shop.inventory), so every
catalog and stock rule and its audit stays; this module only adds who may do it. A
merchant reaches only their own products: another merchant's is NotPermitted here (the
views answer 404 before that, by looking it up among the merchant's own).
"""

from django.db import transaction

from core.exceptions import NotPermitted
from merchants.exceptions import NotAMerchant
from merchants.models import Merchant
from merchants.selectors import approved_merchant_of
from shop import inventory, variants
from shop import services as shop_services
from shop.models import Product


def merchant_for(*, user) -> Merchant:
    """The user's approved merchant profile. Raises NotAMerchant (none, or pending)."""
    merchant = approved_merchant_of(user=user)
    if merchant is None:
        raise NotAMerchant()
    return merchant


def _own(user, product: Product) -> Merchant:
    merchant = merchant_for(user=user)
    if product.merchant_id != merchant.pk:
        raise NotPermitted()
    return merchant


def create_merchant_product(*, user, **fields) -> Product:
    """An approved merchant puts a product on sale; `fields` are those of
    shop.services.create_product (sku, name, price, description, initial_stock...).
    Raises NotAMerchant, and what create_product raises."""
    merchant = merchant_for(user=user)
    return shop_services.create_product(actor=user, merchant=merchant, **fields)


def create_merchant_parent(*, user, **fields) -> Product:
    """An approved merchant puts a product with options (size, colour...) on sale;
    `fields` are those of shop.variants.create_parent_product (sku, name, option_names,
    description, is_active). Its variants are added with create_merchant_variant.
    Raises NotAMerchant, ValidationError."""
    merchant = merchant_for(user=user)
    return variants.create_parent_product(actor=user, merchant=merchant, **fields)


def create_merchant_variant(*, user, parent: Product, **fields) -> Product:
    """The merchant adds a variant to their product with options; `fields` are those of
    shop.variants.create_variant (sku, options, price, initial_stock, is_active).
    Raises NotAMerchant, NotPermitted, ValidationError (values that do not fit the
    options or repeat another variant's, a taken SKU)."""
    _own(user, parent)
    if not parent.is_parent:
        raise NotPermitted()
    return variants.create_variant(parent=parent, actor=user, **fields)


def update_merchant_product(*, user, product: Product, **changes) -> Product:
    """The merchant changes their product's name, description, price or visibility
    (shop.services.update_product). Raises NotAMerchant, NotPermitted."""
    _own(user, product)
    return shop_services.update_product(product=product, actor=user, **changes)


def adjust_merchant_stock(*, user, product: Product, delta: int, reason: str) -> None:
    """The merchant corrects their product's available stock by `delta`
    (shop.inventory.adjust, audited). Raises NotAMerchant, NotPermitted,
    InsufficientStock when available would go below zero."""
    _own(user, product)
    with transaction.atomic():
        inventory.adjust(product_id=product.pk, delta=delta, actor=user, reason=reason)
