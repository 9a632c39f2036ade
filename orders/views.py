"""The customer's HTML pages for checkout, payment and orders.

Thin: each view parses the request, calls the service the API calls too
(`place_order`, `ensure_payment`, `cancel_order`) and maps a ShopError to a message.
A customer only ever sees their own orders; anyone else's answers 404.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import can_proceed

from audit.models import AuditEvent
from orders.checkout import checkout_cart
from orders.forms import CheckoutForm
from orders.models import Order
from orders.services import cancel_order
from payments.models import Payment
from payments.services import ensure_payment
from shop import cart
from shop.exceptions import ShopError

PAGE_SIZE = 20

# What the customer reads for each audit action; other actions stay internal.
TIMELINE_LABELS = {
    "order.created": "Order placed, items reserved",
    "order.start_payment": "Waiting for your payment",
    "payment.declined": "Payment declined",
    "order.mark_paid": "Payment received",
    "order.recover_late_payment": "Late payment accepted",
    "order.fulfil": "Order fulfilled and on its way",
    "order.cancel": "Order cancelled",
    "order.expire": "Reservation expired",
    "order.fail": "Payment failed",
    "payment.refund_requested": "Refund requested",
    "order.refund": "Order refunded",
}


def _own_order(request, pk) -> Order:
    """The signed-in customer's order, or 404 (never 403: no hint that it exists)."""
    return get_object_or_404(Order, pk=pk, user=request.user)


def _payment_of(order: Order) -> Payment | None:
    return Payment.objects.filter(order=order).first()


def _timeline(order: Order) -> list[dict]:
    events = AuditEvent.objects.filter(
        entity_type="order", entity_id=str(order.pk), action__in=TIMELINE_LABELS
    ).order_by("occurred_at", "id")
    timeline = []
    for event in events:
        after = event.after or {}
        note = after.get("reason", "") if event.action in ("payment.declined", "order.fail") else ""
        timeline.append(
            {"when": event.occurred_at, "label": TIMELINE_LABELS[event.action], "note": note}
        )
    return timeline


def _awaiting_payment(order: Order) -> bool:
    return order.status in Order.HOLDING_STOCK and order.expires_at > timezone.now()


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    if request.method == "POST":
        return _place(request)
    contents = cart.get_cart(user=request.user)
    if not contents.lines:
        messages.info(request, "Your cart is empty: add something first.")
        return redirect("shop:cart")
    form = CheckoutForm(initial={"token": uuid.uuid4().hex})
    short = [line for line in contents.lines if line.exceeds_stock]
    return render(
        request, "orders/checkout.html", {"cart": contents, "form": form, "short_lines": short}
    )


def _place(request):
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The checkout form was incomplete. Please review and try again.")
        return redirect("shop:checkout")
    try:
        order = checkout_cart(user=request.user, idempotency_key=form.cleaned_data["token"])
    except ShopError as exc:
        messages.error(request, exc.detail)
        return redirect("shop:cart")
    if getattr(order, "replayed", False):
        messages.info(request, "This order was already placed.")
    else:
        messages.success(
            request, f"Order {order.short_id} placed: your items are reserved while you pay."
        )
    return redirect("orders:pay", pk=order.pk)


@login_required
@require_http_methods(["GET", "POST"])
def order_pay(request, pk):
    order = _own_order(request, pk)
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
    seconds_left = max(0, int((order.expires_at - timezone.now()).total_seconds()))
    return render(
        request,
        "orders/pay.html",
        {
            "order": order,
            "payment": _payment_of(order),
            "expired": seconds_left == 0,
            "seconds_left": seconds_left,
            "simulator": bool(settings.STRIPE_API_BASE),
            "stripe_api_base": settings.STRIPE_API_BASE.rstrip("/"),
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "return_url": request.build_absolute_uri(order.get_absolute_url()),
        },
    )


@login_required
@require_GET
def order_list(request):
    orders = (
        Order.objects.filter(user=request.user)
        .annotate(units=Sum("items__quantity"))
        .order_by("-created_at", "pk")
    )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/list.html", {"page": page})


@login_required
@require_GET
def order_detail(request, pk):
    order = _own_order(request, pk)
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "items": order.items.all(),
            "payment": _payment_of(order),
            "timeline": _timeline(order),
            "can_cancel": can_proceed(order.cancel),
            "can_pay": _awaiting_payment(order),
            "polling": order.status in Order.HOLDING_STOCK,
        },
    )


@never_cache
@require_GET
def order_status(request, pk):
    """{"status", "label"} for the order page's polling; owner only, 404 for anyone else."""
    if not request.user.is_authenticated:
        raise Http404
    order = _own_order(request, pk)
    return JsonResponse({"status": order.status, "label": order.get_status_display()})


@login_required
@require_POST
def order_cancel(request, pk):
    order = _own_order(request, pk)
    try:
        cancel_order(order=order, actor=request.user)
    except ShopError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"Order {order.short_id} is cancelled; nothing was charged.")
    return redirect(order)
