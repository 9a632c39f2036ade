"""The storefront's HTML views: catalog, product, cart and accounts.

Views stay thin: they parse the request with a form, call `shop.cart` (the same
service the API uses) and turn a ShopError into a message.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ShopError
from shop import cart, selectors, services
from shop.filters import CatalogFilter
from shop.forms import AddToCartForm, CartLineForm, LoginForm, RegisterForm, RemoveLineForm

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
        return "sold-out", "Sold out"
    if available <= LOW_STOCK:
        return "low", f"Only {available} left"
    return "in-stock", "In stock"


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_GET
def catalog(request):
    # The same search and filters as `GET products`; a value the form refuses is left out
    # and shown as the field's error.
    filters = CatalogFilter(request.GET, queryset=selectors.products_for_sale())
    filters.is_valid()
    query = filters.form.cleaned_data.get("q") or ""
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for product in page:
        product.stock_class, product.stock_label = stock_state(product.inventory.available)
    context = {"page": page, "filters": filters, "query": query}
    return render(request, "shop/catalog.html", context)


def _render_product(request, product, form, status=200):
    product.stock_class, product.stock_label = stock_state(product.inventory.available)
    return render(request, "shop/product.html", {"product": product, "form": form}, status=status)


@require_GET
def product_detail(request, slug):
    product = get_object_or_404(selectors.products_for_sale(), slug=slug)
    form = AddToCartForm(available=product.inventory.available)
    return _render_product(request, product, form)


@require_POST
def cart_add(request, product_id):
    product = get_object_or_404(selectors.products_for_sale(), pk=product_id)
    form = AddToCartForm(request.POST, available=product.inventory.available)
    if not form.is_valid():
        messages.error(request, "The product could not be added: see the quantity below.")
        return _render_product(request, product, form, status=400)
    quantity = form.cleaned_data["quantity"]
    try:
        cart.add(product_id=product.pk, quantity=quantity, **cart_owner(request))
    except ShopError as exc:
        messages.error(request, exc.detail)
        return redirect(product)
    messages.success(request, f"Added {quantity} of {product.name} to your cart.")
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
        messages.error(request, f"Enter a quantity between 0 and {cart.MAX_QUANTITY}.")
        return redirect("shop:cart")
    quantity = form.cleaned_data["quantity"]
    try:
        cart.set_quantity(
            product_id=form.cleaned_data["product_id"], quantity=quantity, **cart_owner(request)
        )
    except ShopError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "Quantity updated." if quantity else "Removed from your cart.")
    return redirect("shop:cart")


@require_POST
def cart_remove(request):
    form = RemoveLineForm(request.POST)
    if form.is_valid():
        cart.set_quantity(
            product_id=form.cleaned_data["product_id"], quantity=0, **cart_owner(request)
        )
        messages.success(request, "Removed from your cart.")
    else:
        messages.error(request, "That line could not be removed.")
    return redirect("shop:cart")


def _merge_cart_on_login(request, user) -> None:
    """Fold the anonymous cart (still in the session after login) into the user's."""
    had_cart = bool(request.session.get(cart.SESSION_KEY))
    cart.merge_session_cart(session=request.session, user=user)
    if had_cart:
        messages.info(request, "The items you added before signing in are in your cart.")


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
            messages.success(request, f"Welcome! Your account {user.email} is ready.")
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
        messages.success(self.request, f"Signed in as {form.get_user().email}.")
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
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
    success_message = "Your password was changed."
