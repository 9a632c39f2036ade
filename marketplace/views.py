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
from marketplace.forms import (
    AdjustForm,
    ApplyForm,
    ParentCreateForm,
    ParentEditForm,
    ProductCreateForm,
    ProductEditForm,
    VariantCreateForm,
)
from merchants import services as merchant_services
from merchants.selectors import approved_merchant_of, merchant_of
from shop.models import Product

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


def _edit_form(product, data=None):
    form_class = ParentEditForm if product.is_parent else ProductEditForm
    initial = {field: getattr(product, field) for field in form_class.base_fields}
    return form_class(data, initial=initial)


def _render_product(request, product, *, form=None, adjust_form=None, variant_form=None):
    """A product's page: its edit form, and the stock form of a product sold as it is
    or, for a product with options, its variants and the form that adds one."""
    context = {"form": form or _edit_form(product), "product": product}
    if product.is_parent:
        context["variants"] = product.variants.select_related("inventory")
        context["variant_form"] = variant_form or VariantCreateForm(parent=product)
    else:
        context["adjust_form"] = adjust_form or AdjustForm()
    status = 400 if any(f is not None and f.errors for f in (adjust_form, variant_form)) else 200
    return render(request, "marketplace/product_form.html", context, status=status)


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
    product = _created(request, form, services.create_merchant_product)
    if product is not None:
        messages.success(request, _("%(name)s is on sale.") % {"name": product.name})
        return redirect("merchant:home")
    return render(request, "marketplace/product_form.html", {"form": form, "product": None})


@merchant_required
@require_http_methods(["GET", "POST"])
def parent_create(request):
    form = ParentCreateForm(request.POST or None)
    parent = _created(request, form, services.create_merchant_parent)
    if parent is not None:
        messages.success(
            request, _("%(name)s is created: now add its variants.") % {"name": parent.name}
        )
        return redirect("merchant:product-edit", pk=parent.pk)
    context = {"form": form, "product": None, "with_options": True}
    return render(request, "marketplace/product_form.html", context)


def _created(request, form, create):
    """What `create` (a marketplace service) made of the posted `form`, or None: not
    posted, or refused (the form then carries why)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return create(user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        _form_errors(form, exc)
        return None


@merchant_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk):
    product = get_object_or_404(selectors.products_of(merchant=request.merchant), pk=pk)
    form = _edit_form(product, request.POST or None)
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
    return _render_product(request, product, form=form)


@merchant_required
@require_POST
def variant_create(request, pk):
    parent = get_object_or_404(
        selectors.products_of(merchant=request.merchant).filter(structure=Product.Structure.PARENT),
        pk=pk,
    )
    form = VariantCreateForm(request.POST, parent=parent)
    if form.is_valid():
        try:
            variant = services.create_merchant_variant(
                user=request.user, parent=parent, **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is on sale.") % {"name": variant.name})
            return redirect("merchant:product-edit", pk=parent.pk)
    messages.error(request, _("The variant was not added: see the form below."))
    return _render_product(request, parent, variant_form=form)


@merchant_required
@require_POST
def product_adjust(request, pk):
    # A product with options has no stock of its own: its variants do.
    product = get_object_or_404(
        selectors.products_of(merchant=request.merchant).exclude(
            structure=Product.Structure.PARENT
        ),
        pk=pk,
    )
    form = AdjustForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The stock was not changed: see the form below."))
        return _render_product(request, product, adjust_form=form)
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
