from datetime import timedelta

from django.core.management.base import BaseCommand

from payments.services import reconcile_payments


class Command(BaseCommand):
    help = "Ask Stripe about payments pending too long and apply their real state (cron-safe)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            help="Only payments created at least this many seconds ago "
            "(default: 300, or a third of RESERVATION_TTL when that is shorter).",
        )

    def handle(self, *args, older_than, **options):
        age = timedelta(seconds=older_than) if older_than is not None else None
        changed = reconcile_payments(older_than=age)
        self.stdout.write(f"Reconciled payments; {changed} order(s) changed.")
