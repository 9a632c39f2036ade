from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self):
        # Observability hooks that watch other apps without those apps knowing:
        # count every committed order transition (config.metrics).
        from django_fsm.signals import post_transition

        from config import metrics
        from orders.models import Order

        post_transition.connect(
            metrics.on_order_transition, sender=Order, dispatch_uid="metrics_order_transition"
        )
