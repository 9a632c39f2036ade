from django.core.management.base import BaseCommand

from orders.services import expire_due_orders


class Command(BaseCommand):
    help = "Expire unpaid orders past their reservation and release their stock (cron-safe)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Expire at most this many.")

    def handle(self, *args, limit=None, **options):
        count = expire_due_orders(limit=limit)
        self.stdout.write(f"Expired {count} order(s).")
