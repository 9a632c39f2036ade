from datetime import timedelta

from django.core.management.base import BaseCommand

from payments.services import reconcile_payments


class Command(BaseCommand):
    help = "Ask Stripe about payments pending too long and apply their real state (cron-safe)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=600,
            help="Only payments created at least this many seconds ago (default 600).",
        )

    def handle(self, *args, older_than, **options):
        changed = reconcile_payments(older_than=timedelta(seconds=older_than))
        self.stdout.write(f"Reconciled payments; {changed} order(s) changed.")
