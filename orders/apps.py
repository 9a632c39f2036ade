from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        # Count every committed transition (orders.metrics).
        from django_fsm.signals import post_transition

        from orders.metrics import on_order_transition
        from orders.models import Order

        post_transition.connect(
            on_order_transition, sender=Order, dispatch_uid="metrics_order_transition"
        )
