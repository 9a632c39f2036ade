from django.core.management.base import BaseCommand, CommandError

from wallets.services import check_wallet_drift


class Command(BaseCommand):
    help = (
        "Check every wallet's ledger (chain, sum, sign rules) and every order's merchant "
        "earnings; report drift to the log and "
        "the audit log (cron-safe). Changes nothing."
    )

    def handle(self, *args, **options):
        problems = check_wallet_drift()
        for p in problems:
            where = f"wallet {p['wallet_id']}" if "wallet_id" in p else f"order {p['order_id']}"
            self.stdout.write(f"{where}: {'; '.join(p['broken'])}")
        self.stdout.write(f"{len(problems)} wallet(s) with ledger drift.")
        if problems:
            # A non-zero exit, so cron tells the operator.
            raise CommandError(f"{len(problems)} wallet(s) need a look (see the audit log).")
