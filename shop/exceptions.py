"""Errors of the catalog, stock and carts (on core.exceptions.ShopError)."""

from core.exceptions import ShopError


class InvalidCart(ShopError):
    code = "invalid_cart"
    default_detail = "The cart is not valid."


class InsufficientStock(ShopError):
    code = "insufficient_stock"

    def __init__(self, *, product_id: int, requested: int, available: int, name: str = ""):
        self.product_id = product_id
        self.requested = requested
        self.available = available
        label = name or f"Product {product_id}"
        super().__init__(f"{label}: {requested} requested, only {available} available.")
