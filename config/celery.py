"""The Celery app: Redis as broker, beat for the periodic jobs.

Tasks are thin wrappers around services (orders/tasks.py, payments/tasks.py,
wallets/tasks.py, shop/tasks.py); the same services back the management commands kept
for cron users.
Run a worker with `celery -A config worker` and the scheduler with `celery -A config beat`
(one beat process only: it is the clock that enqueues the periodic tasks below).
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shop")
# Every CELERY_* Django setting configures Celery (CELERY_BROKER_URL -> broker_url, ...).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A periodic task that no worker picked up before its next run is due is dropped
# (`expires`), so a worker that was down does not come back to a pile of stale runs.
app.conf.beat_schedule = {
    # The email outbox: order emails go out within seconds of their commit.
    "dispatch-order-emails": {
        "task": "orders.tasks.dispatch_order_emails",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    "expire-orders": {
        "task": "orders.tasks.expire_orders",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Often, so a lost webhook is applied long before the order would expire.
    "reconcile-payments": {
        "task": "payments.tasks.reconcile_payments",
        "schedule": 120.0,
        "options": {"expires": 110},
    },
    "check-stock-drift": {
        "task": "orders.tasks.check_stock_drift",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 3600},
    },
    "check-wallet-drift": {
        "task": "wallets.tasks.check_wallet_drift",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 3600},
    },
    "flush-expired-tokens": {
        "task": "shop.tasks.flush_expired_tokens",
        "schedule": crontab(hour=3, minute=45),
        "options": {"expires": 3600},
    },
    "prune-webhook-payloads": {
        "task": "payments.tasks.prune_webhook_payloads",
        "schedule": crontab(hour=4, minute=15),
        "options": {"expires": 3600},
    },
}

# JSON logs with the task and request ids, task metrics, the worker's metrics endpoint.
import config.celery_signals  # noqa: E402, F401
