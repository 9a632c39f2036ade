"""The names of everything the audit log records, in one place.

Services pass these constants, never hand-built strings, so renaming a transition or a
service cannot silently change what the log, the customer's order timeline, the audit
API's filters or the metrics read. The stored values are the public ones (the audit API
filters on them): change a label freely, a value never.
"""

from django.db import models


class Action(models.TextChoices):
    # Catalog and stock (shop)
    PRODUCT_CREATED = "product.created", "Product created"
    PRODUCT_UPDATED = "product.updated", "Product updated"
    USER_REGISTERED = "user.registered", "Customer signed up"
    STOCK_RESERVED = "inventory.reserved", "Stock reserved"
    STOCK_COMMITTED = "inventory.committed", "Stock committed"
    STOCK_RELEASED = "inventory.released", "Stock released"
    STOCK_RESTOCKED = "inventory.restocked", "Stock received"
    STOCK_ADJUSTED = "inventory.adjusted", "Stock adjusted"
    STOCK_RETURNED = "inventory.returned", "Stock returned"
    STOCK_RESERVED_CORRECTED = "inventory.reserved_corrected", "Reserved stock corrected"
    STOCK_DRIFT_DETECTED = "inventory.drift_detected", "Stock drift detected"
    # Orders: creation, then one action per state-machine transition
    ORDER_CREATED = "order.created", "Order placed"
    ORDER_PAYMENT_STARTED = "order.start_payment", "Payment started"
    ORDER_PAID = "order.mark_paid", "Order paid"
    ORDER_FULFILLED = "order.fulfil", "Order fulfilled"
    ORDER_CANCELLED = "order.cancel", "Order cancelled"
    ORDER_EXPIRED = "order.expire", "Order expired"
    ORDER_FAILED = "order.fail", "Order payment failed"
    ORDER_REFUNDED = "order.refund", "Order refunded"
    ORDER_PAID_LATE = "order.recover_late_payment", "Late payment accepted"
    ORDER_FLAGGED = "order.flagged", "Order flagged for review"
    ORDER_EMAIL_RETRIED = "order_email.retried", "Order email retried"
    # Pricing rules, set by staff (pricing.services)
    SHIPPING_METHOD_CREATED = "shipping_method.created", "Shipping method created"
    SHIPPING_METHOD_UPDATED = "shipping_method.updated", "Shipping method changed"
    SHIPPING_METHOD_DELETED = "shipping_method.deleted", "Shipping method deleted"
    TAX_RATE_CREATED = "tax_rate.created", "Tax rate created"
    TAX_RATE_UPDATED = "tax_rate.updated", "Tax rate changed"
    TAX_RATE_DELETED = "tax_rate.deleted", "Tax rate deleted"
    COUPON_CREATED = "coupon.created", "Coupon created"
    COUPON_UPDATED = "coupon.updated", "Coupon changed"
    COUPON_DELETED = "coupon.deleted", "Coupon deleted"
    # Coupons (pricing): a use taken by a checkout, given back by an order ended unpaid
    COUPON_USED = "coupon.used", "Coupon used"
    COUPON_RELEASED = "coupon.released", "Coupon use given back"
    # Payments
    PAYMENT_DECLINED = "payment.declined", "Payment declined"
    REFUND_REQUESTED = "payment.refund_requested", "Refund requested"
    REFUND_MADE_EXTERNALLY = "payment.refunded_externally", "Refund made outside the shop"
    REFUNDED_TO_WALLET = "payment.refunded_to_wallet", "Refunded to the wallet"
    # Wallets: one action per ledger entry type (the balance moved), then the rest
    WALLET_DEPOSIT = "wallet.deposit", "Wallet deposit credited"
    WALLET_WITHDRAWAL = "wallet.withdrawal", "Wallet withdrawal taken"
    WALLET_WITHDRAWAL_REVERSAL = "wallet.withdrawal_reversal", "Wallet withdrawal given back"
    WALLET_PAYMENT = "wallet.payment", "Order paid from the wallet"
    WALLET_REFUND = "wallet.refund", "Order refunded to the wallet"
    WALLET_EARNING = "wallet.earning", "Merchant earning credited"
    WALLET_EARNING_REVERSAL = "wallet.earning_reversal", "Merchant earning reversed"
    WALLET_ADJUSTMENT = "wallet.adjustment", "Wallet adjusted by staff"
    WALLET_LOCKED = "wallet.locked", "Wallet locked"
    WALLET_UNLOCKED = "wallet.unlocked", "Wallet unlocked"
    WALLET_DRIFT_DETECTED = "wallet.drift_detected", "Wallet ledger drift detected"
    DEPOSIT_CANCELED = "deposit.canceled", "Deposit canceled"
    DEPOSIT_FLAGGED = "deposit.flagged", "Deposit needs review"
    WITHDRAWAL_PAID = "withdrawal.paid", "Withdrawal paid out"
    WITHDRAWAL_REJECTED = "withdrawal.rejected", "Withdrawal rejected"
    # Merchants
    MERCHANT_APPLIED = "merchant.applied", "Merchant applied"
    MERCHANT_APPROVED = "merchant.approved", "Merchant approved"


class Entity(models.TextChoices):
    """What an audit event is about (`entity_type`)."""

    USER = "user", "User"
    PRODUCT = "product", "Product"
    INVENTORY = "inventory", "Inventory"
    ORDER = "order", "Order"
    ORDER_EMAIL = "order_email", "Order email"
    WALLET = "wallet", "Wallet"
    COUPON = "coupon", "Coupon"
    SHIPPING_METHOD = "shipping_method", "Shipping method"
    TAX_RATE = "tax_rate", "Tax rate"
    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    MERCHANT = "merchant", "Merchant"
