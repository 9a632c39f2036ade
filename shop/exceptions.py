"""The shop's business errors. HTML views turn them into messages, the API into status codes.

Each carries a stable `code` (API clients match on it) and a human `detail`.
"""


class ShopError(Exception):
    code = "shop_error"
    default_detail = "The request could not be completed."

    def __init__(self, detail: str | None = None):
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


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


class IdempotencyConflict(ShopError):
    code = "idempotency_conflict"
    default_detail = "This idempotency key was already used for a different request."


class InvalidTransition(ShopError):
    code = "invalid_transition"
    default_detail = "The order cannot make this change in its current state."


class NotPermitted(ShopError):
    code = "not_permitted"
    default_detail = "You are not allowed to do this."


class PaymentUnavailable(ShopError):
    code = "payment_unavailable"
    default_detail = "The payment provider cannot be reached right now. Please try again."


class InvalidRefund(ShopError):
    code = "invalid_refund"
    default_detail = "This refund is not possible."
