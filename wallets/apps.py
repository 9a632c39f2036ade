from django.apps import AppConfig


class WalletsConfig(AppConfig):
    name = "wallets"
    verbose_name = "Wallets"

    def ready(self):
        from core import events
        from merchants.events import MerchantApproved
        from orders.events import OrderPaying, OrderRefunding
        from wallets import subscribers

        events.subscribe(OrderPaying, subscribers.credit_earnings, immediately=True)
        events.subscribe(OrderRefunding, subscribers.reverse_earnings, immediately=True)
        events.subscribe(MerchantApproved, subscribers.open_merchant_wallet, immediately=True)
