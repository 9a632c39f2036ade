from django.core.management.base import BaseCommand, CommandError

from payments.models import WebhookEvent
from payments.webhooks import process_event


class Command(BaseCommand):
    help = "Process stored Stripe events again: the failed ones, or the ids given."

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="Every event that failed.")
        parser.add_argument("--ids", nargs="+", default=[], help="Stripe event ids (evt_...).")

    def handle(self, *args, failed, ids, **options):
        if not failed and not ids:
            raise CommandError("Give --failed, --ids, or both.")
        events = WebhookEvent.objects.none()
        if failed:
            events |= WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED)
        if ids:
            events |= WebhookEvent.objects.filter(stripe_event_id__in=ids)
            missing = set(ids) - set(events.values_list("stripe_event_id", flat=True))
            if missing:
                raise CommandError(f"Unknown event id(s): {', '.join(sorted(missing))}")
        ok = errors = 0
        for event in events.order_by("received_at"):
            try:
                # Named events run again even if processed; the handlers are idempotent.
                process_event(event=event, force=event.stripe_event_id in ids)
            except Exception as exc:
                errors += 1
                self.stderr.write(f"{event.stripe_event_id}: {exc}")
            else:
                ok += 1
        self.stdout.write(f"Replayed {ok} event(s), {errors} failed.")
        if errors:
            raise CommandError(f"{errors} event(s) failed again.")
