"""Celery tasks for orders: thin wrappers around the services, which hold the rules.

Each is idempotent and safe with several workers: expiry picks orders with SKIP LOCKED,
emails lock their (order, kind) record with SKIP LOCKED, the drift check only reads
unless STOCK_DRIFT_AUTOFIX is on and then corrects each product under its row lock.
"""

from celery import shared_task
from django.core.exceptions import ObjectDoesNotExist

from orders import emails, services


@shared_task(name="orders.tasks.expire_orders")
def expire_orders() -> int:
    """Every minute (beat): expire unpaid orders past their reservation."""
    return services.expire_due_orders()


@shared_task(name="orders.tasks.check_stock_drift")
def check_stock_drift() -> int:
    """Nightly (beat): report products whose stock drifted; returns how many."""
    return len(services.check_stock_drift())


@shared_task(
    name="orders.tasks.send_order_email",
    autoretry_for=(Exception,),
    dont_autoretry_for=(ObjectDoesNotExist, ValueError),
    retry_backoff=30,  # 30 s, 60 s, 120 s ... with jitter
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def send_order_email_task(*, order_id: str, kind: str) -> bool:
    """Send one order email (enqueued by orders.emails.enqueue after a commit)."""
    return emails.send_order_email(order_id=order_id, kind=kind)
