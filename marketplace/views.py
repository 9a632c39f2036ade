"""The merchant pages: apply to sell, and the merchant area (own products, stock, sales
and earnings). Views parse with a form, call marketplace.services or merchants.services
(the same services as the API), and turn a ShopError into a message. Another merchant's
product is 404."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ShopError
from marketplace import selectors, services
from marketplace.forms import AdjustForm, ApplyForm, ProductCreateForm, ProductEditForm
from merchants import services as merchant_services
from merchants.selectors import approved_merchant_of, merchant_of

PAGE_SIZE = 20


def merchant_required(view):
    """Signed in and an approved merchant (in `request.merchant`); anyone else is sent
    to the application page, which tells them where they stand."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        request.merchant = approved_merchant_of(user=request.user)
        if request.merchant is None:
            return redirect("merchant:apply")
        return view(request, *args, **kwargs)

    return wrapped


def _form_errors(form, exc: ValidationError) -> None:
    """A service's validation error shown on the form (a taken SKU in a race)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _editable(product) -> dict:
    return {field: getattr(product, field) for field in ProductEditForm.base_fields}


@login_required
@require_http_methods(["GET", "POST"])
def apply(request):
    merchant = merchant_of(user=request.user)
    if merchant is not None and merchant.is_approved:
        return redirect("merchant:home")
    form = ApplyForm(request.POST or None)
    if merchant is None and request.method == "POST" and form.is_valid():
        try:
            merchant = merchant_services.apply_for_merchant(
                user=request.user, display_name=form.cleaned_data["display_name"]
            )
        except ShopError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("Thank you: we will look at your application soon."))
            return redirect("merchant:apply")
    return render(request, "marketplace/apply.html", {"merchant": merchant, "form": form})


@merchant_required
def home(request):
    products = list(selectors.products_of(merchant=request.merchant))
    sales = selectors.with_fees(
        merchant=request.merchant, lines=selectors.sales_of(merchant=request.merchant)[:5]
    )
    context = {
        "merchant": request.merchant,
        "products": products,
        "sales": sales,
        "summary": selectors.earnings_summary(merchant=request.merchant),
    }
    return render(request, "marketplace/home.html", context)


@merchant_required
@require_http_methods(["GET", "POST"])
def product_create(request):
    form = ProductCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.create_merchant_product(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is on sale.") % {"name": product.name})
            return redirect("merchant:home")
    return render(request, "marketplace/product_form.html", {"form": form, "product": None})


@merchant_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk):
    product = get_object_or_404(selectors.products_of(merchant=request.merchant), pk=pk)
    form = ProductEditForm(request.POST or None, initial=_editable(product))
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in form.changed_data}
        try:
            if changes:
                services.update_merchant_product(user=request.user, product=product, **changes)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": form.cleaned_data["name"]})
            return redirect("merchant:home")
    context = {"form": form, "product": product, "adjust_form": AdjustForm()}
    return render(request, "marketplace/product_form.html", context)


@merchant_required
@require_POST
def product_adjust(request, pk):
    product = get_object_or_404(selectors.products_of(merchant=request.merchant), pk=pk)
    form = AdjustForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The stock was not changed: see the form below."))
        context = {
            "form": ProductEditForm(
                initial={
                    f: getattr(product, f) for f in ("name", "description", "price", "is_active")
                }
            ),
            "product": product,
            "adjust_form": form,
        }
        return render(request, "marketplace/product_form.html", context, status=400)
    try:
        services.adjust_merchant_stock(user=request.user, product=product, **form.cleaned_data)
    except ShopError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("The stock of %(name)s was changed.") % {"name": product.name})
    return redirect("merchant:product-edit", pk=product.pk)


@merchant_required
def sales(request):
    page = Paginator(selectors.sales_of(merchant=request.merchant), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "merchant": request.merchant,
        "page": page,
        "rows": selectors.with_fees(merchant=request.merchant, lines=page.object_list),
        "summary": selectors.earnings_summary(merchant=request.merchant),
        "entries": selectors.earnings_of(merchant=request.merchant)[:50],
    }
    return render(request, "marketplace/sales.html", context)
