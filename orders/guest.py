"""Guest checkout: the signed links to a guest's orders, and what a guest's session sees.

A guest checkout runs as a guest account (`shop.services.guest_account`, one per email
address), signed into the session. Anyone can type an address, so a session signed in
that way sees only what it made itself, from `since` (the moment it signed in) on: the
orders placed and the addresses entered since then. An order from before is opened by
its signed link (in the order emails, shown on the thank-you page), which proves the
mailbox (or the session that placed it) and adds that order to the session's `orders`.
The guest completes the account (a password) only when the session sees every order of
it, so nobody adopts someone else's orders by knowing their email address; addresses
from other sessions are forgotten then.

Links carry the order id signed with SECRET_KEY (django.core.signing, salted) and stay
valid LINK_MAX_AGE: long enough for a delivery and a return, and a password reset for a
completed account never needs them.

A returning guest whose session does not see every order can ask for an account link
instead: emailed to the account's address, it proves the mailbox as every order link
would, and shows the session all the account's orders (ACCOUNT_LINK_MAX_AGE; it stops
working once the account is completed).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q, QuerySet
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.api import GuestThrottle
from orders.models import Order
from shop import cart

SALT = "orders.guest-link"
LINK_MAX_AGE = timedelta(days=30)
ACCOUNT_SALT = "orders.guest-account"
ACCOUNT_LINK_MAX_AGE = timedelta(days=2)
SESSION_KEY = "guest"


def order_link(order: Order) -> str:
    """The path of the signed link that opens `order` (for its guest owner)."""
    token = signing.dumps(str(order.pk), salt=SALT, compress=True)
    return reverse("orders:link", args=[token])


def order_from_token(token: str) -> Order | None:
    """The order a link's token names, or None when it is tampered with or too old."""
    try:
        pk = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return Order.objects.select_related("user").filter(pk=pk).first()


def account_link(user) -> str:
    """The path of the signed link that shows a guest account all its orders."""
    token = signing.dumps(user.pk, salt=ACCOUNT_SALT, compress=True)
    return reverse("orders:guest-account", args=[token])


def account_from_token(token: str):
    """The guest account a link's token names, or None when it is tampered with, too
    old, or the account has been completed since."""
    try:
        pk = signing.loads(token, salt=ACCOUNT_SALT, max_age=ACCOUNT_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return get_user_model().objects.filter(pk=pk, is_guest=True, is_active=True).first()


def sign_in(request, user) -> None:
    """Sign the guest account into the session (its cart merges into the account's, as
    on any sign-in); what it sees starts now."""
    if request.user.is_authenticated and request.user.pk == user.pk:
        return
    session_cart = request.session.get(cart.SESSION_KEY)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if session_cart:
        request.session[cart.SESSION_KEY] = session_cart
    cart.merge_session_cart(session=request.session, user=user)
    request.session[SESSION_KEY] = {"since": timezone.now().isoformat(), "orders": []}


def grant(request, order: Order) -> None:
    """Let the guest's session see `order` (it opened the order's signed link)."""
    scope = request.session.get(SESSION_KEY) or {"since": timezone.now().isoformat()}
    orders = scope.get("orders", [])
    if str(order.pk) not in orders:
        request.session[SESSION_KEY] = {**scope, "orders": [*orders, str(order.pk)]}


def send_account_link(request, user) -> None:
    """Email `user` (a guest) the account link, in the language of this request."""
    context = {
        "email": user.email,
        "link": request.build_absolute_uri(account_link(user)),
        "hours": int(ACCOUNT_LINK_MAX_AGE.total_seconds() // 3600),
        "shop_name": settings.SHOP_NAME,
    }
    message = EmailMultiAlternatives(
        subject=_("Your orders at %(shop)s") % {"shop": settings.SHOP_NAME},
        body=render_to_string("emails/guest_account.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(render_to_string("emails/guest_account.html", context), "text/html")
    message.send()


def grant_all(request, user) -> None:
    """Let the guest's session see every order and address of `user` (it opened the
    account link)."""
    request.session[SESSION_KEY] = {"since": user.date_joined.isoformat(), "orders": []}


def _since(request) -> datetime:
    scope = request.session.get(SESSION_KEY)
    # A guest signed in without a scope (none of our pages does that) sees nothing old.
    return datetime.fromisoformat(scope["since"]) if scope else timezone.now()


def visible_orders(request, orders: QuerySet[Order]) -> QuerySet[Order]:
    """`orders` (the signed-in user's) as far as this session may see them: all of them
    for a full account; for a guest, those of this session and those it opened by link."""
    if not getattr(request.user, "is_guest", False):
        return orders
    granted = request.session.get(SESSION_KEY, {}).get("orders", [])
    return orders.filter(Q(created_at__gte=_since(request)) | Q(pk__in=granted))


def visible_addresses(request, addresses):
    """The signed-in user's addresses as far as this session may see them (as orders)."""
    if not getattr(request.user, "is_guest", False):
        return addresses
    return addresses.filter(created_at__gte=_since(request))


def sees_all_orders(request, orders: QuerySet[Order]) -> bool:
    """The guest's session sees every order of the account: it may make the account its
    own."""
    return not orders.exclude(pk__in=visible_orders(request, orders).values("pk")).exists()


def hidden_addresses(request, addresses) -> list:
    """The account's addresses from other sessions: an address has no link to open it,
    so completing the account forgets them rather than hand them to this session."""
    return list(addresses.exclude(pk__in=visible_addresses(request, addresses).values("pk")))


def throttled(request) -> int | None:
    """Seconds to wait when this client tried too many guest checkouts or links (per
    address, like sign-ins: each try can sign an account in), else None."""
    throttle = GuestThrottle()
    if throttle.allow_request(request, None):
        return None
    return max(1, int(throttle.wait()))


def throttled_response(request, wait: int):
    """429 with Retry-After and a page that says when to try again."""
    response = render(request, "orders/guest_throttled.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response
