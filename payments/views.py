import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import gateway
from payments.webhooks import process_event, receive_event

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe cannot send a CSRF token; the signature authenticates the request.
@require_POST
def stripe_webhook(request):
    """400 for a bad signature (nothing stored), 200 once stored and processed, 500 on a
    processing failure so that Stripe delivers the event again."""
    try:
        event = receive_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except (gateway.InvalidSignature, ValueError, UnicodeDecodeError):
        return JsonResponse({"detail": "Invalid signature or payload."}, status=400)
    try:
        process_event(event=event)
    except Exception:
        logger.exception("Webhook event %s failed", event.stripe_event_id)
        return JsonResponse({"detail": "Processing failed; it will be retried."}, status=500)
    return JsonResponse({"received": True})
