"""The payment page of an order, and the Stripe webhook endpoint."""

import contextlib
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ShopError
from orders.models import Order
from orders.selectors import orders_of
from payments import gateway
from payments.exceptions import PaymentUnavailable
from payments.selectors import payment_of
from payments.services import ensure_payment, refresh_payment
from payments.webhooks import process_event, receive_event

logger = logging.getLogger(__name__)


@login_required
@require_http_methods(["GET", "POST"])
def order_pay(request, pk):
    """The customer pays their own order (404 for anyone else's); POST makes the
    PaymentIntent when checkout could not reach Stripe."""
    order = get_object_or_404(orders_of(user=request.user), pk=pk)
    if request.method == "POST":
        try:
            ensure_payment(order=order)
        except ShopError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, "The payment form is ready.")
        return redirect("orders:pay", pk=order.pk)
    if order.status not in Order.HOLDING_STOCK:
        messages.info(request, f"This order is {order.get_status_display().lower()}.")
        return redirect(order)
    payment = payment_of(order=order)
    if payment is not None and payment.in_flight:  # paid once already, being confirmed
        return redirect(f"{order.get_absolute_url()}?confirming=1")
    seconds_left = max(0, int((order.expires_at - timezone.now()).total_seconds()))
    return render(
        request,
        "orders/pay.html",
        {
            "order": order,
            "payment": payment,
            "expired": seconds_left == 0,
            "seconds_left": seconds_left,
            "simulator": bool(settings.STRIPE_API_BASE),
            "stripe_api_base": settings.STRIPE_API_BASE.rstrip("/"),
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "return_url": request.build_absolute_uri(reverse("orders:pay-return", args=[order.pk])),
        },
    )


@login_required
@require_GET
def order_pay_return(request, pk):
    """Where the browser lands once it has confirmed a payment (the simulator's form,
    Stripe's return_url): ask Stripe now instead of waiting for the webhook, then show
    the thank-you page when it went through, else the order, marked as confirming while
    the payment is still on its way."""
    order = get_object_or_404(orders_of(user=request.user), pk=pk)
    # Stripe unreachable: the webhook, or reconciliation, brings the result instead.
    with contextlib.suppress(PaymentUnavailable):
        refresh_payment(order=order)
    order = Order.objects.get(pk=order.pk)
    if order.status in Order.HOLDING_STOCK:
        return redirect(f"{order.get_absolute_url()}?confirming=1")
    if order.status == Order.Status.PAID:
        return redirect("orders:confirmation", pk=order.pk)
    return redirect(order)


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
