from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.services import check_stock_drift


class Command(BaseCommand):
    help = (
        "Compare every product's stock with its orders; report drift to the log and the "
        "audit log (cron-safe). Corrects `reserved` only with --fix or STOCK_DRIFT_AUTOFIX."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix",
            action="store_true",
            default=None,
            help="Recompute `reserved` from the pending orders where that is the only fault.",
        )

    def handle(self, *args, fix=None, **options):
        autofix = settings.STOCK_DRIFT_AUTOFIX if fix is None else fix
        problems = check_stock_drift(autofix=autofix)
        for p in problems:
            state = "corrected" if p["corrected"] else "reported"
            self.stdout.write(f"product {p['product_id']}: {'; '.join(p['broken'])} ({state})")
        self.stdout.write(f"{len(problems)} product(s) with stock drift.")
        left = sum(not p["corrected"] for p in problems)
        if left:
            # A non-zero exit, so cron tells the operator.
            raise CommandError(f"{left} product(s) need a look (see the audit log).")
