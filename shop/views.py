"""The storefront's HTML views: catalog, product, cart and accounts.

Views stay thin: they parse the request with a form, call `shop.cart` (the same
service the API uses) and turn a ShopError into a message.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ShopError
from shop import cart, selectors, services
from shop.filters import CatalogFilter
from shop.forms import (
    AddToCartForm,
    CartLineForm,
    LoginForm,
    RegisterForm,
    RemoveLineForm,
    VariantAddToCartForm,
)

PAGE_SIZE = 12
LOW_STOCK = 5


def cart_owner(request) -> dict:
    """The keyword arguments that select the visitor's cart in `shop.cart`."""
    if request.user.is_authenticated:
        return {"user": request.user}
    return {"session": request.session}


def stock_state(available: int) -> tuple[str, str]:
    """A CSS modifier and the words shown for a product's stock."""
    if available <= 0:
        return "sold-out", _("Sold out")
    if available <= LOW_STOCK:
        return "low", _("Only %(available)s left") % {"available": available}
    return "in-stock", _("In stock")


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_GET
def catalog(request):
    return _render_catalog(request, category_slug=request.GET.get("category", ""))


@require_GET
def category_detail(request, slug):
    return _render_catalog(request, category_slug=slug)


def _render_catalog(request, *, category_slug: str):
    """The catalog, or one category's part of it (its subtree) with its breadcrumbs."""
    category = None
    if category_slug:
        category = selectors.category_by_slug(slug=category_slug)
        if category is None:
            raise Http404("No such category.")
    # The same search and filters as `GET products`; a value the form refuses is left out
    # and shown as the field's error.
    filters = CatalogFilter(request.GET, queryset=selectors.products_for_sale(category=category))
    filters.is_valid()
    query = filters.form.cleaned_data.get("q") or ""
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for product in page:
        product.stock_class, product.stock_label = stock_state(product.units_available())
    context = {
        "page": page,
        "filters": filters,
        "query": query,
        "category": category,
        "ancestors": selectors.category_ancestors(category) if category else [],
        "subcategories": selectors.child_categories(category),
    }
    return render(request, "shop/catalog.html", context)


def _render_product(request, product, form, status=200, selected=None):
    """The product page; for a parent, its variants to pick from, `selected` (or the
    first one in stock) shown with its price and stock."""
    variants = list(product.variants.all()) if product.is_parent else []
    for item in [product, *variants]:
        item.stock_class, item.stock_label = stock_state(item.units_available())
    if variants and selected is None:
        selected = next((v for v in variants if v.units_available() > 0), variants[0])
    context = {
        "product": product,
        "variants": variants,
        "selected": selected,
        "shown": selected or product,  # whose price and stock the page heads with
        "form": form,
        "breadcrumbs": selectors.product_breadcrumbs(product),
        "share_image": _absolute(next(iter(product.images.all()), None)),
    }
    return render(request, "shop/product.html", context, status=status)


def _absolute(image) -> str:
    """The image's URL for link previews (Open Graph wants it absolute): on
    SHOP_BASE_URL unless the storage serves it from elsewhere already."""
    if image is None:
        return ""
    url = image.fallback["url"]
    return url if "://" in url else f"{settings.SHOP_BASE_URL}{url}"


def _add_to_cart_form(product, data=None):
    if product.is_parent:
        return VariantAddToCartForm(data, product=product)
    return AddToCartForm(data, available=product.units_available())


@require_GET
def product_detail(request, slug):
    product = get_object_or_404(selectors.products_for_sale(), slug=slug)
    # ?variant=<id> (a variant's own URL) picks it; an unknown one picks nothing.
    chosen = request.GET.get("variant", "")
    selected = next((v for v in product.variants.all() if str(v.pk) == chosen), None)
    form = _add_to_cart_form(product)
    return _render_product(request, product, form, selected=selected)


@require_POST
def cart_add(request, product_id):
    product = get_object_or_404(selectors.products_for_sale(), pk=product_id)
    form = _add_to_cart_form(product, request.POST)
    if not form.is_valid():
        messages.error(request, _("The product could not be added: see the form below."))
        selected = form.cleaned_data.get("variant")
        return _render_product(request, product, form, status=400, selected=selected)
    quantity = form.cleaned_data["quantity"]
    item = form.cleaned_data.get("variant") or product  # what the cart holds: the SKU
    try:
        cart.add(product_id=item.pk, quantity=quantity, **cart_owner(request))
    except ShopError as exc:
        messages.error(request, exc.detail)
        return redirect(item)
    messages.success(
        request,
        _("Added %(quantity)s of %(name)s to your cart.")
        % {"quantity": quantity, "name": item.name},
    )
    return redirect(_safe_next(request, reverse("shop:cart")))


@require_GET
def cart_detail(request):
    contents = cart.get_cart(**cart_owner(request))
    short = [line for line in contents.lines if line.exceeds_stock]
    return render(
        request,
        "shop/cart.html",
        {"cart": contents, "short_lines": short, "max_quantity": cart.MAX_QUANTITY},
    )


@require_POST
def cart_update(request):
    form = CartLineForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Enter a quantity between 0 and %(max)s.") % {"max": cart.MAX_QUANTITY}
        )
        return redirect("shop:cart")
    quantity = form.cleaned_data["quantity"]
    try:
        cart.set_quantity(
            product_id=form.cleaned_data["product_id"], quantity=quantity, **cart_owner(request)
        )
    except ShopError as exc:
        messages.error(request, exc.detail)
    else:
        done = _("Quantity updated.") if quantity else _("Removed from your cart.")
        messages.success(request, done)
    return redirect("shop:cart")


@require_POST
def cart_remove(request):
    form = RemoveLineForm(request.POST)
    if form.is_valid():
        cart.set_quantity(
            product_id=form.cleaned_data["product_id"], quantity=0, **cart_owner(request)
        )
        messages.success(request, _("Removed from your cart."))
    else:
        messages.error(request, _("That line could not be removed."))
    return redirect("shop:cart")


def _merge_cart_on_login(request, user) -> None:
    """Fold the anonymous cart (still in the session after login) into the user's."""
    had_cart = bool(request.session.get(cart.SESSION_KEY))
    cart.merge_session_cart(session=request.session, user=user)
    if had_cart:
        messages.info(request, _("The items you added before signing in are in your cart."))


@require_http_methods(["GET", "POST"])
def register(request):
    if request.user.is_authenticated:
        return redirect("shop:catalog")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.register_customer(
                email=form.cleaned_data["email"], password=form.cleaned_data["password1"]
            )
        except ValidationError as exc:  # taken in other letter case, or a moment ago
            form.add_error(None, exc)
        else:
            _sign_in_new_customer(request, user)
            messages.success(
                request, _("Welcome! Your account %(email)s is ready.") % {"email": user.email}
            )
            return redirect(_safe_next(request, reverse("shop:catalog")))
    next_url = _safe_next(request, "")
    return render(request, "registration/register.html", {"form": form, "next": next_url})


def _sign_in_new_customer(request, user) -> None:
    session_cart = request.session.get(cart.SESSION_KEY)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if session_cart:
        request.session[cart.SESSION_KEY] = session_cart
    _merge_cart_on_login(request, user)


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        # login() keeps the session's data (it only cycles the key); keep the cart
        # explicitly anyway, so the merge does not depend on that detail.
        session_cart = self.request.session.get(cart.SESSION_KEY)
        response = super().form_valid(form)
        if session_cart:
            self.request.session[cart.SESSION_KEY] = session_cart
        _merge_cart_on_login(self.request, form.get_user())
        messages.success(
            self.request, _("Signed in as %(email)s.") % {"email": form.get_user().email}
        )
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You are signed out."))
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password from the emailed link ends the account's sign-in locks and
    signs the owner in at once: guesses from elsewhere can never keep them out
    (config.security)."""

    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"

    def form_valid(self, form):
        response = super().form_valid(form)
        services.clear_login_failures(user=form.user)
        return response


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    success_url = reverse_lazy("orders:list")
    success_message = gettext_lazy("Your password was changed.")
