"""The customer's checkout pages, in steps: address -> shipping method -> review (with
the coupon and the breakdown) -> place order -> the payment page.

Thin, like orders.views: what the customer chose so far lives in the session
(`checkout`: address id, method code, coupon code); the breakdown comes from
orders.checkout.quote_cart and the order from checkout_cart, the services the API
calls. Carts of goods that are not shipped skip the address and shipping steps.
"""

import uuid
from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ShopError
from orders import guest
from orders.checkout import Delivery, checkout_cart, quote_cart
from orders.forms import (
    AddressChoiceForm,
    AddressForm,
    CheckoutForm,
    CouponForm,
    GuestCheckoutForm,
    ShippingForm,
)
from pricing.exceptions import CouponExhausted, InvalidCoupon, ShippingRequired
from pricing.selectors import shipping_methods_for
from shop import addresses, cart, selectors, services
from shop.exceptions import InsufficientStock

SESSION_KEY = "checkout"


def _chosen(request) -> dict:
    return request.session.get(SESSION_KEY, {})


def _choose(request, **values) -> None:
    request.session[SESSION_KEY] = {**_chosen(request), **values}


def _delivery(request, *, ships: bool) -> Delivery:
    chosen = _chosen(request)
    return Delivery(
        shipping_address_id=chosen.get("address_id"),
        shipping_method=chosen.get("method") if ships else None,
        coupon=chosen.get("coupon"),
    )


def _address_book(request):
    return guest.visible_addresses(request, selectors.addresses_of(user=request.user))


def _chosen_address(request):
    address_id = _chosen(request).get("address_id")
    if address_id is None:
        return None
    return _address_book(request).filter(pk=address_id).first()


def _ships(contents) -> bool:
    return any(line.product.requires_shipping for line in contents.lines)


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    """The start (an empty cart goes back, goods to ship go to the address step), and
    the review page's "Place order"."""
    if request.method == "POST":
        return _place(request)
    contents = cart.get_cart(user=request.user)
    if not contents.lines:
        messages.info(request, _("Your cart is empty: add something first."))
        return redirect("shop:cart")
    return redirect("shop:checkout-address" if _ships(contents) else "shop:checkout-review")


@login_required
@require_http_methods(["GET", "POST"])
def address_step(request):
    book = _address_book(request)
    choice = AddressChoiceForm(
        request.POST if "address" in request.POST else None,
        addresses=book,
        initial={"address": _chosen(request).get("address_id")},
    )
    new = AddressForm(request.POST if "new-full_name" in request.POST else None, prefix="new")
    if request.method == "POST":
        address = None
        if choice.is_bound and choice.is_valid():
            address = choice.cleaned_data["address"]
        elif new.is_bound and new.is_valid():
            address = addresses.add_address(user=request.user, **new.cleaned_data)
        if address is not None:
            _choose(request, address_id=address.pk)
            return redirect("shop:checkout-shipping")
    return render(
        request,
        "orders/checkout_address.html",
        {"choice": choice, "new": new, "has_book": book.exists(), "step": 1},
    )


@require_http_methods(["GET", "POST"])
def guest_step(request):
    """Check out without an account: an email address and the delivery address. The
    session signs in as the address's guest account (orders.guest) and goes on to the
    shipping step as any customer; an address with a full account logs in instead."""
    if request.user.is_authenticated:
        return redirect("shop:checkout")
    form = GuestCheckoutForm(request.POST or None)
    if request.method == "POST":
        if (wait := guest.throttled(request)) is not None:
            return guest.throttled_response(request, wait)
        if form.is_valid():
            try:
                user = services.guest_account(email=form.cleaned_data["email"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                guest.sign_in(request, user)
                address = addresses.add_address(user=user, **form.address())
                _choose(request, address_id=address.pk)
                ships = _ships(cart.get_cart(user=user))
                return redirect("shop:checkout-shipping" if ships else "shop:checkout")
    return render(request, "orders/checkout_guest.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def shipping_step(request):
    address = _chosen_address(request)
    if address is None:
        return redirect("shop:checkout-address")
    methods = list(shipping_methods_for(country=address.country.code))
    form = ShippingForm(
        request.POST or None, methods=methods, initial={"method": _chosen(request).get("method")}
    )
    if request.method == "POST" and form.is_valid():
        _choose(request, method=form.cleaned_data["method"])
        return redirect("shop:checkout-review")
    return render(
        request,
        "orders/checkout_shipping.html",
        {"form": form, "methods": methods, "address": address, "step": 2},
    )


@login_required
@require_http_methods(["GET"])
def review_step(request):
    contents = cart.get_cart(user=request.user)
    if not contents.lines:
        return redirect("shop:cart")
    ships = _ships(contents)
    try:
        quote = quote_cart(user=request.user, delivery=_delivery(request, ships=ships))
    except ShippingRequired as exc:
        messages.error(request, exc.detail)
        return redirect("shop:checkout-address")
    except (InvalidCoupon, CouponExhausted) as exc:
        # The coupon stopped applying since it was entered: show the order without it.
        messages.warning(request, exc.detail)
        _choose(request, coupon=None)
        return redirect("shop:checkout-review")
    except InsufficientStock as exc:
        messages.error(request, exc.detail)  # the cart shows each line above the stock
        return redirect("shop:cart")
    except ShopError as exc:
        messages.error(request, exc.detail)
        return redirect("shop:checkout-shipping" if ships else "shop:cart")
    return render(
        request,
        "orders/checkout.html",
        {
            "cart": contents,
            "quote": quote,
            "ships": ships,
            "address": _chosen_address(request),
            "form": CheckoutForm(initial={"token": uuid.uuid4().hex}),
            "coupon_form": CouponForm(),
            "step": 3 if ships else 1,
        },
    )


@login_required
@require_POST
def coupon_step(request):
    """Apply (or, with `remove`, drop) a coupon; the quote decides whether it is valid."""
    if "remove" in request.POST:
        _choose(request, coupon=None)
        messages.info(request, _("The coupon was removed."))
        return redirect("shop:checkout-review")
    form = CouponForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a coupon code."))
        return redirect("shop:checkout-review")
    code = form.cleaned_data["coupon"]
    delivery = _delivery(request, ships=_ships(cart.get_cart(user=request.user)))
    try:
        quote = quote_cart(user=request.user, delivery=replace(delivery, coupon=code))
    except ShopError as exc:
        messages.error(request, exc.detail)
    else:
        _choose(request, coupon=code)
        messages.success(request, _("Coupon %(code)s applied.") % {"code": quote.coupon.code})
    return redirect("shop:checkout-review")


def _place(request):
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The checkout form was incomplete. Please review and try again."))
        return redirect("shop:checkout-review")
    contents = cart.get_cart(user=request.user)
    try:
        order = checkout_cart(
            user=request.user,
            idempotency_key=form.cleaned_data["token"],
            delivery=_delivery(request, ships=_ships(contents)),
        )
    except ShopError as exc:
        messages.error(request, exc.detail)
        return redirect("shop:cart")
    request.session.pop(SESSION_KEY, None)
    if getattr(order, "replayed", False):
        messages.info(request, _("This order was already placed."))
    else:
        messages.success(
            request,
            _("Order %(number)s placed: your items are reserved while you pay.")
            % {"number": order.short_id},
        )
    return redirect("orders:pay", pk=order.pk)
