from django.core.management.base import BaseCommand, CommandError

from wallets.services import check_wallet_drift


class Command(BaseCommand):
    help = (
        "Check every wallet's ledger (chain, sum, sign rules); report drift to the log and "
        "the audit log (cron-safe). Changes nothing."
    )

    def handle(self, *args, **options):
        problems = check_wallet_drift()
        for p in problems:
            self.stdout.write(f"wallet {p['wallet_id']}: {'; '.join(p['broken'])}")
        self.stdout.write(f"{len(problems)} wallet(s) with ledger drift.")
        if problems:
            # A non-zero exit, so cron tells the operator.
            raise CommandError(f"{len(problems)} wallet(s) need a look (see the audit log).")
