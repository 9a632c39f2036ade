"""Read queries of the merchant area: a merchant's products, sales and earnings."""

from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet, Sum

from core.money import ZERO
from merchants.models import Merchant
from orders.models import Order, OrderItem
from shop.models import Product
from wallets.earnings import fee_of, split_fee
from wallets.models import Earning, EntryType, LedgerEntry


def products_of(*, merchant: Merchant) -> QuerySet[Product]:
    """The merchant's own products, active or not, by name, with their stock."""
    return (
        Product.objects.filter(merchant=merchant)
        .select_related("inventory", "merchant")
        .prefetch_related("images", "variants")
        .order_by("name", "id")
    )


def sales_of(*, merchant: Merchant) -> QuerySet[OrderItem]:
    """Lines of the merchant's products in paid, fulfilled or refunded orders, newest
    first, with their order."""
    return (
        OrderItem.objects.filter(product__merchant=merchant, order__status__in=Order.SOLD)
        .select_related("order")
        .order_by("-order__created_at", "-id")
    )


def with_fees(*, merchant: Merchant, lines) -> list[dict]:
    """The sale `lines` (of sales_of) as rows with the fee and net of each line: the fee
    charged on the merchant's lines of an order, split over them (wallets.earnings
    .split_fee), so the rows of an order add up to its earning. Two queries."""
    lines = list(lines)
    order_ids = {line.order_id for line in lines}
    earnings = {
        earning.order_id: earning
        for earning in Earning.objects.filter(merchant=merchant, order_id__in=order_ids)
    }
    siblings: dict = {}
    for order_id, item_id, total in (
        OrderItem.objects.filter(order_id__in=order_ids, product__merchant=merchant)
        .order_by("order_id", "id")
        .values_list("order_id", "id", "line_total")
    ):
        siblings.setdefault(order_id, []).append((item_id, total))
    fees: dict[int, Decimal] = {}
    for order_id, items in siblings.items():
        earning = earnings.get(order_id)
        percent = earning.fee_percent if earning else settings.MARKETPLACE_FEE_PERCENT
        gross = sum((total for _, total in items), ZERO)
        fee = earning.fee if earning else fee_of(gross, percent=percent)
        shares = split_fee([total for _, total in items], fee=fee, percent=percent)
        fees.update(zip([item_id for item_id, _ in items], shares, strict=True))
    return [
        {
            "order_id": line.order_id,
            "order_status": line.order.status,
            "order_status_label": line.order.get_status_display(),
            "product_id": line.product_id,
            "sku": line.sku,
            "name": line.name,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "line_total": line.line_total,
            "fee": fees[line.pk],
            "net": line.line_total - fees[line.pk],
            "created_at": line.order.created_at,
        }
        for line in lines
    ]


def earnings_summary(*, merchant: Merchant) -> dict:
    """What the merchant earned: sales (gross), fees and net credited, what refunds
    took back, and their wallet's balance now."""
    totals = Earning.objects.filter(merchant=merchant).aggregate(
        gross=Sum("gross"), fee=Sum("fee"), net=Sum("net")
    )
    reversed_ = LedgerEntry.objects.filter(
        wallet__user_id=merchant.user_id, type=EntryType.EARNING_REVERSAL
    ).aggregate(total=Sum("amount"))["total"]
    balance = (
        LedgerEntry.objects.filter(wallet__user_id=merchant.user_id)
        .order_by("-sequence")
        .values_list("balance_after", flat=True)
        .first()
    )
    return {
        "gross": totals["gross"] or ZERO,
        "fees": totals["fee"] or ZERO,
        "net": totals["net"] or ZERO,
        "reversed": -(reversed_ or ZERO),
        "balance": balance if balance is not None else ZERO,
        "currency": settings.SHOP_CURRENCY,
    }


def earnings_of(*, merchant: Merchant) -> QuerySet[LedgerEntry]:
    """The merchant's earning and reversal entries, newest first."""
    return LedgerEntry.objects.filter(
        wallet__user_id=merchant.user_id,
        type__in=[EntryType.EARNING, EntryType.EARNING_REVERSAL],
    ).order_by("-created_at", "-id")
