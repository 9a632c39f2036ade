from collections.abc import Callable
from typing import NamedTuple

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import linebreaksbr
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from core.admin import ReadOnlyTabularInline, confirm_action, confirmed
from core.exceptions import ShopError
from core.templatetags.money import money
from orders import emails
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderEmail, OrderItem
from orders.selectors import address_lines
from orders.services import cancel_order, ensure_can, fulfil_order


class StaffTransition(NamedTuple):
    """A transition staff run by hand. Its sentences are whole translated phrases, not
    the label lowercased into a frame: German nouns keep their capital letter."""

    label: str
    confirm: str
    done: str  # with %(order)s
    service: Callable


STAFF_TRANSITIONS = {
    "fulfil": StaffTransition(
        gettext_lazy("Mark fulfilled"),
        gettext_lazy("Yes, mark it fulfilled"),
        gettext_lazy("%(order)s: marked fulfilled."),
        fulfil_order,
    ),
    "cancel": StaffTransition(
        gettext_lazy("Cancel order"),
        gettext_lazy("Yes, cancel it"),
        gettext_lazy("%(order)s: cancelled."),
        cancel_order,
    ),
}
# Those that cannot be undone ask first, on a page of their own (core.admin.confirm_action).
CONFIRM_FIRST = {"cancel"}


class FulfilForm(forms.Form):
    """How the order ships, on its admin page (both optional, as in the API)."""

    carrier = forms.CharField(label=gettext_lazy("Carrier"), max_length=100, required=False)
    tracking_number = forms.CharField(
        label=gettext_lazy("Tracking number"), max_length=100, required=False
    )


class OrderItemInline(ReadOnlyTabularInline):
    model = OrderItem
    fields = ["product", "sku", "name", "unit_price", "quantity", "line_total"]


class OrderEmailInline(ReadOnlyTabularInline):
    """Which emails the customer was sent, so staff can answer "did I get a receipt?"."""

    model = OrderEmail
    fields = ["kind", "recipient", "sent_at", "attempts", "last_error", "next_attempt_at"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    change_form_template = "admin/orders/order/change_form.html"
    inlines = [OrderItemInline, OrderEmailInline]
    list_display = ["short_id", "user", "status", "total", "currency", "needs_review", "created_at"]
    list_filter = ["status", "needs_review", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["id", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    actions = ["fulfil_selected", "cancel_selected", "retry_unsent_emails"]
    readonly_fields = [
        "id",
        "user",
        "status",
        "currency",
        "subtotal",
        "discount_total",
        "shipping_total",
        "tax_total",
        "total",
        "coupon_code",
        "shipping_method_name",
        "delivery_address",
        "expires_at",
        "restocked",
        "carrier",
        "tracking_number",
        "needs_review",
        "review_reason",
        "idempotency_key",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # orders come from checkout

    @admin.display(description=gettext_lazy("delivery address"))
    def delivery_address(self, order):
        """The address as checkout copied it, one line each."""
        return linebreaksbr(address_lines(order.shipping_address)) or "-"

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        # Staff paste the short id shown on the customer's pages; match it as a prefix.
        base = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().lower()
        if 4 <= len(term) <= 36 and all(c in "0123456789abcdef-" for c in term):
            queryset |= base.filter(id__startswith=term)
        return queryset, may_have_duplicates

    def get_urls(self):
        return [
            path(
                "<uuid:order_id>/transition/<str:name>/",
                self.admin_site.admin_view(require_POST(self.transition_view)),
                name="orders_order_transition",
            ),
            *super().get_urls(),
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Every field is read-only: an order changes only through its transitions (the
        # buttons, the actions). The change permission is for those; saving the form is not
        # a way to change an order, so it is refused rather than "saved" unchanged.
        if request.method == "POST":
            raise PermissionDenied
        return super().changeform_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update(
            show_save=False, show_save_and_continue=False, show_save_and_add_another=False
        )
        if obj is not None:
            may_change = self.has_change_permission(request, obj)
            context["staff_transitions"] = [
                (name, transition.label)
                for name, transition in STAFF_TRANSITIONS.items()
                if may_change and can_proceed(getattr(obj, name))
            ]
            if may_change and can_proceed(obj.fulfil):
                context["fulfil_form"] = FulfilForm()
            # The payment and its refunds, read through the reverse relations payments
            # declared (orders never imports payments); refunding is payments' own page.
            payment = getattr(obj, "payment", None)
            context["payment"] = payment
            context["refunds"] = list(payment.refunds.all()) if payment is not None else []
            # Paid with no card payment that went through: the wallet paid it (the only
            # other way; its card PaymentIntent is being cancelled); its payment and any
            # refund are wallet ledger entries.
            paid = obj.status in (Order.Status.PAID, Order.Status.FULFILLED, Order.Status.REFUNDED)
            context["paid_from_wallet"] = paid and (
                payment is None or payment.status != "succeeded"
            )
            if context["paid_from_wallet"] and request.user.has_perm("wallets.view_ledgerentry"):
                context["ledger_url"] = "{}?{}".format(
                    reverse("admin:wallets_ledgerentry_changelist"), urlencode({"q": str(obj.pk)})
                )
            context["can_refund"] = obj.status in (
                Order.Status.PAID,
                Order.Status.FULFILLED,
            ) and request.user.has_perm("payments.add_refund")
            if request.user.has_perm("audit.view_auditevent"):
                context["audit_url"] = "{}?{}".format(
                    reverse("admin:audit_auditevent_changelist"),
                    urlencode({"entity_type": "order", "entity_id": str(obj.pk)}),
                )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def transition_view(self, request, order_id, name):
        if name not in STAFF_TRANSITIONS or not self.has_change_permission(request):
            return redirect("admin:orders_order_changelist")
        order = get_object_or_404(Order, pk=order_id)
        # An impossible transition is refused at once (_run says why), without asking.
        if name in CONFIRM_FIRST and can_proceed(getattr(order, name)) and not confirmed(request):
            transition = STAFF_TRANSITIONS[name]
            return confirm_action(
                request,
                self,
                title=_("%(action)s %(number)s?")
                % {"action": transition.label, "number": order.short_id},
                question=_("%(action)s %(number)s of %(customer)s, total %(total)s?")
                % {
                    "action": transition.label,
                    "number": order.short_id,
                    "customer": order.user.email,
                    "total": money(order.total, order.currency),
                },
                action_url=request.path,
                back_url=reverse("admin:orders_order_change", args=[order.pk]),
                confirm_label=transition.confirm,
            )
        kwargs = {}
        if name == "fulfil":
            form = FulfilForm(request.POST)
            if not form.is_valid():
                errors = "; ".join(e for field in form.errors.values() for e in field)
                self.message_user(request, f"{order}: {errors}", messages.ERROR)
                return redirect(reverse("admin:orders_order_change", args=[order.pk]))
            kwargs = form.cleaned_data
        self._run(request, order, name, **kwargs)
        return redirect(reverse("admin:orders_order_change", args=[order.pk]))

    def _run(self, request, order, name, **kwargs):
        transition = STAFF_TRANSITIONS[name]
        try:
            order = transition.service(order=order, actor=request.user, **kwargs)
        except InvalidTransition as exc:
            self.message_user(request, exc.detail, messages.ERROR)  # it names the order
        except ShopError as exc:
            self.message_user(request, f"{order}: {exc.detail}", messages.ERROR)
        else:
            if name == "cancel" and order.status in Order.SOLD:
                # cancel_order found the customer's payment had gone through.
                self.message_user(
                    request,
                    _("%(order)s: the payment went through, so it is paid.") % {"order": order},
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    transition.done % {"order": order},
                    messages.SUCCESS,
                )

    @admin.action(
        description=gettext_lazy("Mark selected orders fulfilled"), permissions=["change"]
    )
    def fulfil_selected(self, request, queryset):
        for order in queryset:
            self._run(request, order, "fulfil")

    @admin.action(description=gettext_lazy("Cancel selected orders"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        if not confirmed(request):
            # Ask only about what can be cancelled: the rest is refused here, not after.
            orders = []
            for order in queryset.select_related("user"):
                try:
                    ensure_can(order, order.cancel)
                except InvalidTransition as exc:
                    self.message_user(request, exc.detail, messages.ERROR)
                else:
                    orders.append(order)
            if not orders:
                return None
            return confirm_action(
                request,
                self,
                title=_("Cancel the selected orders?"),
                question=_("Cancel these orders and release their stock?"),
                objects=[f"{o} ({o.user.email}, {o.get_status_display()})" for o in orders],
                action_url=request.get_full_path(),
                back_url=request.get_full_path(),
                confirm_label=_("Yes, cancel them"),
                hidden=[("action", "cancel_selected")]
                + [(ACTION_CHECKBOX_NAME, str(o.pk)) for o in orders],
            )
        for order in queryset:
            self._run(request, order, "cancel")
        return None

    @admin.action(
        description=gettext_lazy("Send the selected orders' unsent emails again"),
        permissions=["change"],
    )
    def retry_unsent_emails(self, request, queryset):
        count = emails.retry_unsent_emails(
            order_ids=list(queryset.values_list("pk", flat=True)), actor=request.user
        )
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d email will be sent again.",
                    "%(count)d emails will be sent again.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, _("The selected orders have no unsent email."), messages.WARNING
            )
