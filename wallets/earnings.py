"""Merchant earnings: when an order becomes paid, each merchant selling lines of it is
credited their lines' `line_total` sum less the shop's fee (MARKETPLACE_FEE_PERCENT of
it, rounded half up); discounts, shipping and tax stay with the shop. A full refund
reverses the credits. Both run inside the transaction that moves the order (orders
publishes OrderPaying / OrderRefunding there, and wallets subscribes immediately), so
an earning exists exactly when its order was paid.

Lock order (docs/architecture.md): the order row is locked by the publisher; the
merchants' wallet rows are locked here, by id, before orders touches any inventory
row. A wallet payment or refund locks the customer's wallet together with these
(`payee_wallet_ids`), so every wallet row of the transaction is taken in one id-ordered
statement.
"""

from decimal import Decimal

from django.conf import settings
from django.db.models import F, Sum

from core.money import round_money
from orders.models import Order, OrderItem
from wallets import ledger
from wallets.models import Earning, EntryType, Wallet


def fee_of(gross: Decimal, *, percent: Decimal) -> Decimal:
    """The shop's fee on `gross`: `percent` of it, rounded half up to cents."""
    return round_money(gross * percent / 100)


def split_fee(line_totals: list[Decimal], *, fee: Decimal, percent: Decimal) -> list[Decimal]:
    """The fee of one merchant's lines of an order, line by line (merchant sales list):
    each line its own rounded share, the last line the rest, so the lines add up to the
    fee charged on their sum."""
    shares = [fee_of(total, percent=percent) for total in line_totals[:-1]]
    return [*shares, fee - sum(shares, Decimal("0.00"))] if line_totals else []


def merchant_shares(*, order_id) -> list[dict]:
    """`{merchant_id, user_id, gross}` for each merchant selling lines of the order, by
    merchant id; `gross` is the sum of their lines' totals."""
    return list(
        OrderItem.objects.filter(order_id=order_id, product__merchant__isnull=False)
        .values(merchant_id=F("product__merchant_id"), user_id=F("product__merchant__user_id"))
        .annotate(gross=Sum("line_total"))
        .order_by("merchant_id")
    )


def payee_wallet_ids(*, order_id) -> list[int]:
    """The existing wallets of the merchants selling lines of the order (for a
    transaction that also locks another wallet: lock them together, by id)."""
    user_ids = OrderItem.objects.filter(order_id=order_id, product__merchant__isnull=False).values(
        "product__merchant__user_id"
    )
    return list(Wallet.objects.filter(user_id__in=user_ids).values_list("pk", flat=True))


def credit_earnings(*, order: Order) -> list[Earning]:
    """Credit each merchant of the order their earning (an `earning` entry referencing
    the order, and its Earning record). For the transaction making the order paid, with
    the order row locked (OrderPaying)."""
    shares = merchant_shares(order_id=order.pk)
    if not shares:
        return []
    user_ids = [share["user_id"] for share in shares]
    wallet_ids = dict(
        Wallet.objects.filter(user_id__in=user_ids, kind=Wallet.Kind.MERCHANT).values_list(
            "user_id", "pk"
        )
    )
    for user_id in set(user_ids) - set(wallet_ids):
        # Approval makes the wallet (merchants.events.MerchantApproved); this covers a
        # merchant made another way. Before any wallet row is locked.
        wallet_ids[user_id] = ledger.merchant_wallet_for(user_id=user_id).pk
    wallets = ledger.lock(wallet_ids=wallet_ids.values())
    percent = settings.MARKETPLACE_FEE_PERCENT
    earnings = []
    for share in shares:
        wallet = wallets[wallet_ids[share["user_id"]]]
        fee = fee_of(share["gross"], percent=percent)
        net = share["gross"] - fee
        entry = None
        if net > 0:
            entry = ledger.post(
                wallet=wallet, type=EntryType.EARNING, amount=net, reference=str(order.pk)
            )
        earnings.append(
            Earning.objects.create(
                order=order,
                merchant_id=share["merchant_id"],
                wallet=wallet,
                gross=share["gross"],
                fee_percent=percent,
                fee=fee,
                net=net,
                entry=entry,
            )
        )
    return earnings


def reverse_earnings(*, order: Order) -> list:
    """Take back every earning credited for the order (an `earning_reversal` entry
    each; a merchant wallet may go below zero this way, and only this way). For the
    transaction refunding the order in full, order row locked (OrderRefunding)."""
    earnings = list(Earning.objects.filter(order=order, entry__isnull=False))
    if not earnings:
        return []
    wallets = ledger.lock(wallet_ids=[earning.wallet_id for earning in earnings])
    return [
        ledger.post(
            wallet=wallets[earning.wallet_id],
            type=EntryType.EARNING_REVERSAL,
            amount=-earning.net,
            reference=str(order.pk),
        )
        for earning in sorted(earnings, key=lambda earning: earning.wallet_id)
    ]
