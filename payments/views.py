"""The payment pages: an order's (by card or from the wallet balance) and a wallet
top-up's (by card, the same card form), and the Stripe webhook endpoint."""

import contextlib
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ShopError
from core.templatetags.money import money
from orders.models import Order
from orders.selectors import orders_of
from payments import card_messages, gateway
from payments.exceptions import PaymentUnavailable
from payments.selectors import payment_of
from payments.services import ensure_payment, refresh_deposit, refresh_payment, start_deposit
from payments.webhooks import process_event, receive_event
from wallets import services as wallet_services
from wallets.forms import TopUpForm, error_message
from wallets.models import Deposit
from wallets.selectors import deposits_of, wallet_of

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
            messages.success(request, _("The payment form is ready."))
        return redirect("orders:pay", pk=order.pk)
    if order.status not in Order.HOLDING_STOCK:
        messages.info(
            request,
            _("This order's status: %(status)s.") % {"status": order.get_status_display()},
        )
        return redirect(order)
    payment = payment_of(order=order)
    if payment is not None and payment.in_flight:  # paid once already, being confirmed
        return redirect(f"{order.get_absolute_url()}?confirming=1")
    seconds_left = max(0, int((order.expires_at - timezone.now()).total_seconds()))
    wallet = wallet_of(user=request.user)
    return render(
        request,
        "orders/pay.html",
        {
            "order": order,
            "payment": payment,
            "expired": seconds_left == 0,
            "seconds_left": seconds_left,
            # Offered when the balance covers the total; pay_order decides (a locked
            # wallet is refused there, with its message).
            "wallet": wallet if wallet.balance >= order.total > 0 else None,
            **_card_form(request, return_url=reverse("orders:pay-return", args=[order.pk])),
        },
    )


def _card_form(request, *, return_url: str) -> dict:
    """What payments/_card_form.html needs besides the PaymentIntent: the simulator's
    form offline, Stripe's Payment Element with real keys."""
    return {
        "simulator": bool(settings.STRIPE_API_BASE),
        "stripe_api_base": settings.STRIPE_API_BASE.rstrip("/"),
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "return_url": request.build_absolute_uri(return_url),
        "card_messages": card_messages.translations_json(),
    }


@login_required
@require_POST
def order_pay_wallet(request, pk):
    """Pay the order from the wallet balance (the service `POST orders/{id}/pay
    {method: "wallet"}` calls): the thank-you page, or the payment page with the reason."""
    order = get_object_or_404(orders_of(user=request.user), pk=pk)
    try:
        wallet_services.pay_order(order=order, user=request.user)
    except ShopError as exc:
        messages.error(request, exc.detail)
        return redirect("orders:pay", pk=order.pk)
    messages.success(request, _("Paid from your wallet balance."))
    return redirect("orders:confirmation", pk=order.pk)


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


# --- wallet top-ups -----------------------------------------------------------------------


@login_required
@require_POST
def top_up(request):
    """Open a deposit (the service the API's `POST wallet/deposits` calls) and send the
    customer to its card form. The form's token is the idempotency key: a resubmitted
    form gets the same deposit."""
    form = TopUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, error_message(form))
        return redirect("wallet:overview")
    try:
        deposit = start_deposit(
            user=request.user,
            amount=form.cleaned_data["amount"],
            idempotency_key=form.cleaned_data["token"],
        )
    except ShopError as exc:
        messages.error(request, exc.detail)
        return redirect("wallet:overview")
    return redirect("wallet:deposit-pay", pk=deposit.pk)


@login_required
@require_GET
def deposit_pay(request, pk):
    """The card form of the customer's own pending deposit (404 for anyone else's)."""
    deposit = get_object_or_404(deposits_of(user=request.user), pk=pk)
    if deposit.status != Deposit.Status.PENDING:
        messages.info(request, _deposit_message(deposit))
        return redirect("wallet:overview")
    if not deposit.payment_intent_id:  # Stripe was unreachable: nothing to confirm yet
        messages.error(
            request,
            _("We could not reach the payment provider for this top-up. Please start it again."),
        )
        return redirect("wallet:overview")
    return render(
        request,
        "wallets/deposit_pay.html",
        {
            "deposit": deposit,
            **_card_form(request, return_url=reverse("wallet:deposit-return", args=[deposit.pk])),
        },
    )


@login_required
@require_GET
def deposit_pay_return(request, pk):
    """Where the browser lands once it has confirmed a top-up: ask Stripe now instead of
    waiting for the webhook, then show the wallet with the outcome."""
    deposit = get_object_or_404(deposits_of(user=request.user), pk=pk)
    with contextlib.suppress(PaymentUnavailable):  # the webhook or reconciliation decides
        deposit = refresh_deposit(deposit=deposit)
    level = {Deposit.Status.SUCCEEDED: messages.SUCCESS, Deposit.Status.CANCELED: messages.ERROR}
    messages.add_message(
        request, level.get(deposit.status, messages.INFO), _deposit_message(deposit)
    )
    return redirect("wallet:overview")


def _deposit_message(deposit: Deposit) -> str:
    amount = money(deposit.amount, deposit.currency)
    if deposit.status == Deposit.Status.SUCCEEDED:
        return _("%(amount)s was added to your balance.") % {"amount": amount}
    if deposit.status == Deposit.Status.CANCELED:
        return _("The top-up of %(amount)s was cancelled; nothing was charged.") % {
            "amount": amount
        }
    return _(
        "We are confirming your top-up of %(amount)s with the bank: it shows in your "
        "balance as soon as it is done."
    ) % {"amount": amount}


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
