"""How wallets reacts to orders and merchants (subscribed in WalletsConfig.ready(), all
immediately: inside the publisher's transaction, so they commit or roll back with it)."""

from merchants.events import MerchantApproved
from orders.events import OrderPaying, OrderRefunding
from wallets import earnings, ledger


def credit_earnings(event: OrderPaying) -> None:
    earnings.credit_earnings(order=event.order)


def reverse_earnings(event: OrderRefunding) -> None:
    earnings.reverse_earnings(order=event.order)


def open_merchant_wallet(event: MerchantApproved) -> None:
    ledger.merchant_wallet_for(user_id=event.merchant.user_id)
