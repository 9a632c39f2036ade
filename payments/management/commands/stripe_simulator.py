"""``python manage.py stripe_simulator``: run the offline Stripe simulator in the foreground.

Point the shop at it with ``STRIPE_API_BASE=http://127.0.0.1:12111``. Webhooks are signed with
``settings.STRIPE_WEBHOOK_SECRET``; if ``settings.STRIPE_SECRET_KEY`` /
``STRIPE_PUBLISHABLE_KEY`` are test keys, only those keys are accepted.
"""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.simulator import StripeSimulator
from payments.simulator.persistence import StateFileError

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
        parser.add_argument(
            "--webhook-workers",
            type=int,
            default=8,
            help="Webhook deliveries in parallel (one at a time per PaymentIntent; "
            "default: %(default)s).",
        )
        parser.add_argument(
            "--state",
            default=None,
            metavar="FILE",
            help="Keep the simulator's objects, events, idempotency keys and pending "
            "webhooks in FILE: loaded on start, rewritten after changes (default: memory only).",
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
                webhook_workers=options["webhook_workers"],
                log=self._log,
                state_file=options["state"],
            )
        except StateFileError as exc:
            raise CommandError(str(exc)) from exc
        except (OSError, ValueError) as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc

        self._log(f"Stripe simulator listening on {simulator.url}")
        self._log(f"Webhooks: {options['webhook_url'] or 'not delivered (no --webhook-url)'}")
        if options["state"]:
            restored = f"restored {len(simulator.events)} events" if simulator.restored else "new"
            self._log(f"State: {options['state']} ({restored})")
        # A process manager stops us with SIGTERM: leave like on Ctrl-C, so the state file
        # gets the last changes.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            self._log("Stopped.")

    def _log(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()  # stdout may be a pipe (e.g. under a process manager)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
