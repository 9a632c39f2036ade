"""``python manage.py stripe_simulator``: run the offline Stripe simulator in the foreground.

Point the shop at it with ``STRIPE_API_BASE=http://127.0.0.1:12111``. Webhooks are signed with
``settings.STRIPE_WEBHOOK_SECRET``; if ``settings.STRIPE_SECRET_KEY`` /
``STRIPE_PUBLISHABLE_KEY`` are test keys, only those keys are accepted.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.simulator import StripeSimulator

FALLBACK_WEBHOOK_SECRET = "whsec_simulator"  # noqa: S105 - test-mode default, not a secret


class Command(BaseCommand):
    help = "Run the offline Stripe API simulator (PaymentIntents, refunds, signed webhooks)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Interface to bind.")
        parser.add_argument("--port", type=int, default=12111, help="Port to listen on.")
        parser.add_argument(
            "--webhook-url",
            default=None,
            help="Where to POST events, e.g. http://127.0.0.1:8000/webhooks/stripe/ "
            "(default: record events without delivering them).",
        )
        parser.add_argument(
            "--retry-delays",
            default="1,2,4,8,16",
            help="Comma-separated seconds between webhook retries (default: %(default)s).",
        )

    def handle(self, *args, **options):
        try:
            retry_delays = tuple(
                float(part) for part in options["retry_delays"].split(",") if part.strip()
            )
        except ValueError as exc:
            raise CommandError(f"Invalid --retry-delays: {exc}") from exc

        webhook_secret = getattr(settings, "STRIPE_WEBHOOK_SECRET", "") or ""
        if not webhook_secret:
            webhook_secret = FALLBACK_WEBHOOK_SECRET
            self.stderr.write(
                f"STRIPE_WEBHOOK_SECRET is not set; signing webhooks with {webhook_secret!r}."
            )
        secret_key = getattr(settings, "STRIPE_SECRET_KEY", "") or ""
        publishable_key = getattr(settings, "STRIPE_PUBLISHABLE_KEY", "") or ""

        try:
            simulator = StripeSimulator(
                host=options["host"],
                port=options["port"],
                webhook_url=options["webhook_url"],
                webhook_secret=webhook_secret,
                # Only real test keys restrict access; otherwise any sk_test_/pk_test_ works.
                api_key=secret_key if secret_key.startswith("sk_test_") else None,
                publishable_key=(
                    publishable_key if publishable_key.startswith("pk_test_") else None
                ),
                retry_delays=retry_delays,
                log=self._log,
            )
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc

        self._log(f"Stripe simulator listening on {simulator.url}")
        self._log(f"Webhooks: {options['webhook_url'] or 'not delivered (no --webhook-url)'}")
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            self._log("Stopped.")

    def _log(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()  # stdout may be a pipe (e.g. under a process manager)
