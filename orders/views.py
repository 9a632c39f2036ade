"""The customer's HTML order pages (checkout is orders.checkout_pages', the payment page
payments').

Thin: each view parses the request, calls the service or selector the API calls too
(`cancel_order`) and maps a ShopError to a message.
A customer only ever sees their own orders; anyone else's answers 404.
"""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_fsm import can_proceed

from core.exceptions import ShopError
from orders import guest, selectors
from orders.models import Order
from orders.reorder import buy_again
from orders.services import cancel_order
from shop.addresses import delete_address
from shop.selectors import addresses_of
from shop.services import complete_guest_account

PAGE_SIZE = 20


def _own_orders(request):
    """The signed-in customer's orders; a guest's session only those it may see
    (orders.guest)."""
    return guest.visible_orders(request, selectors.orders_of(user=request.user))


def _own_order(request, pk) -> Order:
    """The signed-in customer's order, or 404 (never 403: no hint that it exists)."""
    return get_object_or_404(_own_orders(request), pk=pk)


def _awaiting_payment(order: Order) -> bool:
    return order.status in Order.HOLDING_STOCK and order.expires_at > timezone.now()


@login_required
@require_GET
def order_list(request):
    history = guest.visible_orders(request, selectors.order_history(user=request.user))
    page = Paginator(history, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/list.html", {"page": page})


@login_required
@require_GET
def order_detail(request, pk):
    order = _own_order(request, pk)
    if request.GET.get("confirming") == "1" and order.status == Order.Status.PAID:
        # The page polled while the payment was confirmed, and it went through.
        return redirect("orders:confirmation", pk=order.pk)
    return render(request, "orders/detail.html", _detail_context(request, order))


# A card refund's state in the customer's words (payments.Refund.Status values; orders
# reads refunds through the relation payments declares, never importing it).
CARD_REFUND_STATES = {
    "pending": gettext_lazy("On its way to your card"),
    "succeeded": gettext_lazy("Refunded to your card"),
    "failed": gettext_lazy("Not refunded yet: we are looking into it"),
    "canceled": gettext_lazy("Not refunded yet: we are looking into it"),
}


def _detail_context(request, order: Order, account_form=None) -> dict:
    payment = getattr(order, "payment", None)
    holding = order.status in Order.HOLDING_STOCK
    # The browser confirmed a payment (the payment page sends it here with ?confirming=1)
    # or Stripe reports one processing: no pay or cancel button until the status settles.
    confirming = holding and (
        request.GET.get("confirming") == "1" or bool(payment and payment.in_flight)
    )
    return {
        "order": order,
        "items": order.items.all(),
        "payment": payment,
        "timeline": selectors.order_timeline(order=order),
        "card_refunds": [
            (refund, CARD_REFUND_STATES[refund.status])
            for refund in (payment.refunds.order_by("created_at") if payment else [])
        ],
        "confirming": confirming,
        "can_cancel": can_proceed(order.cancel) and not confirming,
        "can_pay": _awaiting_payment(order) and not confirming,
        "polling": holding,
        **_guest_context(request, order, account_form),
    }


@login_required
@require_GET
def order_confirmation(request, pk):
    """The "thank you" page once the order is paid (the payment's return lands here);
    before that, or once refunded, the order page is the one to read."""
    order = _own_order(request, pk)
    if order.status not in (Order.Status.PAID, Order.Status.FULFILLED):
        return redirect(order)
    return render(
        request,
        "orders/confirmation.html",
        {
            "order": order,
            "items": order.items.all(),
            **_guest_context(request, order),
        },
    )


def _guest_context(request, order: Order, form=None) -> dict:
    """For a guest: the order's signed link to keep, and the form that completes the
    account."""
    if not getattr(request.user, "is_guest", False):
        return {}
    return {
        "guest_link": request.build_absolute_uri(guest.order_link(order)),
        "account_form": form or SetPasswordForm(request.user),
        "sees_all_orders": guest.sees_all_orders(request, selectors.orders_of(user=request.user)),
    }


@never_cache
@require_GET
def order_link(request, token):
    """A signed link to an order (orders.guest): a guest owner is signed in and sees it;
    an owner with a full account signs in as usual. Tampered or expired: 404."""
    if (wait := guest.throttled(request)) is not None:
        return guest.throttled_response(request, wait)
    order = guest.order_from_token(token)
    if order is None:
        raise Http404("No such order link.")
    if not order.user.is_guest:
        if request.user == order.user:
            return redirect(order)
        return redirect_to_login(order.get_absolute_url())
    guest.sign_in(request, order.user)
    guest.grant(request, order)
    return redirect(order)


@login_required
@require_POST
def order_account_link(request, pk):
    """A guest whose session does not see all the account's orders asks for the account
    link by email (orders.guest): opening it shows them all, then the account can be made."""
    order = _own_order(request, pk)
    if not request.user.is_guest:
        return redirect(order)
    if (wait := guest.throttled(request)) is not None:
        return guest.throttled_response(request, wait)
    guest.send_account_link(request, request.user)
    messages.success(
        request,
        _("We emailed a link to %(email)s: open it to see all your orders here.")
        % {"email": request.user.email},
    )
    return redirect(order)


@never_cache
@require_GET
def guest_account(request, token):
    """The emailed account link: the guest is signed in and sees every order of the
    account, newest first, ready to create the account. Tampered, expired or completed
    since: 404."""
    if (wait := guest.throttled(request)) is not None:
        return guest.throttled_response(request, wait)
    user = guest.account_from_token(token)
    if user is None:
        raise Http404("No such account link.")
    guest.sign_in(request, user)
    guest.grant_all(request, user)
    messages.success(request, _("Here are all your orders: choose a password to keep them."))
    latest = selectors.orders_of(user=user).order_by("-created_at").first()
    return redirect(latest if latest is not None else "orders:list")


@login_required
@require_POST
def order_complete_account(request, pk):
    """A guest sets a password on the order page: their guest account becomes a full one
    with all its orders (only when this session sees all of them: orders.guest)."""
    order = _own_order(request, pk)
    user = request.user
    if not user.is_guest:
        return redirect(order)
    form = SetPasswordForm(user, request.POST)
    if not guest.sees_all_orders(request, selectors.orders_of(user=user)):
        messages.error(
            request,
            _(
                "This email address has earlier guest orders: ask for the link that shows "
                "them all (Email me the link), then create your account."
            ),
        )
        return redirect(order)
    if form.is_valid():
        hidden = guest.hidden_addresses(request, addresses_of(user=user))
        try:
            user = complete_guest_account(user=user, password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            for address in hidden:
                delete_address(address=address)
            update_session_auth_hash(request, user)
            request.session.pop(guest.SESSION_KEY, None)
            messages.success(
                request,
                _("Your account %(email)s is ready: log in with it and your password.")
                % {"email": user.email},
            )
            return redirect(order)
    messages.error(request, _("Your account was not created: see the form below."))
    return render(
        request,
        "orders/detail.html",
        _detail_context(request, order, account_form=form),
        status=400,
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
        order = cancel_order(order=order, actor=request.user)
    except ShopError as exc:
        messages.error(request, exc.detail)
    else:
        if order.status == Order.Status.CANCELLED:
            messages.success(
                request,
                _("Order %(order)s is cancelled; nothing was charged.") % {"order": order.short_id},
            )
        else:
            messages.info(
                request,
                _(
                    "Your payment for order %(order)s went through just now, so the order is "
                    "paid, not cancelled."
                )
                % {"order": order.short_id},
            )
    return redirect(order)


@login_required
@require_POST
def order_buy_again(request, pk):
    """Put the order's still-available items into the cart and say what could not be."""
    order = _own_order(request, pk)
    result = buy_again(order=order, user=request.user)
    units = sum(quantity for _name, quantity in result.added) + sum(
        added for _name, added, _ordered in result.short
    )
    if units:
        messages.success(
            request,
            ngettext(
                "%(count)d item from order %(order)s is in your cart.",
                "%(count)d items from order %(order)s are in your cart.",
                units,
            )
            % {"count": units, "order": order.short_id},
        )
    for name, added, ordered in result.short:
        messages.warning(
            request,
            _("%(name)s: only %(added)d of the %(ordered)d you ordered are in stock now.")
            % {"added": added, "ordered": ordered, "name": name},
        )
    if result.unavailable:
        messages.warning(
            request,
            _("No longer available, not added: %(names)s.")
            % {"names": ", ".join(result.unavailable)},
        )
    return redirect("shop:cart")
