"""Celery tasks for orders: thin wrappers around the services, which hold the rules.

Each is idempotent and safe with several workers: expiry picks orders with SKIP LOCKED,
the email dispatcher and senders take their (order, kind) rows with SKIP LOCKED, the
drift check only reads unless STOCK_DRIFT_AUTOFIX is on and then corrects each product
under its row lock.
"""

from celery import shared_task

from orders import emails, services


@shared_task(name="orders.tasks.expire_orders")
def expire_orders() -> int:
    """Every minute (beat): expire unpaid orders past their reservation."""
    return services.expire_due_orders()


@shared_task(name="orders.tasks.check_stock_drift")
def check_stock_drift() -> int:
    """Nightly (beat): report products whose stock drifted; returns how many."""
    return len(services.check_stock_drift())


@shared_task(name="orders.tasks.dispatch_order_emails")
def dispatch_order_emails() -> int:
    """Every few seconds (beat): hand the due emails of the outbox to workers."""
    return emails.dispatch_due_emails()


# No autoretry: a failed send is recorded on its row with the time of the next attempt,
# and a later dispatch hands it out again.
@shared_task(name="orders.tasks.send_order_email", acks_late=True)
def send_order_email_task(*, order_id: str, kind: str, reference: str = "") -> bool:
    """Send one order email handed out by dispatch_order_emails."""
    return emails.send_order_email(order_id=order_id, kind=kind, reference=reference)
