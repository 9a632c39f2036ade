from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import linebreaksbr
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from core.admin import ReadOnlyTabularInline
from core.exceptions import ShopError
from orders import emails
from orders.models import Order, OrderEmail, OrderItem
from orders.selectors import address_lines
from orders.services import cancel_order, fulfil_order

# The transitions staff run by hand, each through its service.
STAFF_TRANSITIONS = {
    "fulfil": ("Mark fulfilled", fulfil_order),
    "cancel": ("Cancel order", cancel_order),
}


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
        "needs_review",
        "review_reason",
        "idempotency_key",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # orders come from checkout

    @admin.display(description=_("delivery address"))
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
            context["staff_transitions"] = [
                (name, label)
                for name, (label, _) in STAFF_TRANSITIONS.items()
                if can_proceed(getattr(obj, name))
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def transition_view(self, request, order_id, name):
        if name not in STAFF_TRANSITIONS or not self.has_change_permission(request):
            return redirect("admin:orders_order_changelist")
        order = get_object_or_404(Order, pk=order_id)
        self._run(request, order, name)
        return redirect(reverse("admin:orders_order_change", args=[order.pk]))

    def _run(self, request, order, name):
        label, service = STAFF_TRANSITIONS[name]
        try:
            order = service(order=order, actor=request.user)
        except ShopError as exc:
            self.message_user(request, f"{order}: {exc.detail}", messages.ERROR)
        else:
            if name == "cancel" and order.status in Order.SOLD:
                # cancel_order found the customer's payment had gone through.
                self.message_user(
                    request, f"{order}: the payment went through, so it is paid.", messages.WARNING
                )
            else:
                self.message_user(request, f"{order}: {label.lower()} done.", messages.SUCCESS)

    @admin.action(description="Mark selected orders fulfilled", permissions=["change"])
    def fulfil_selected(self, request, queryset):
        for order in queryset:
            self._run(request, order, "fulfil")

    @admin.action(description="Cancel selected orders", permissions=["change"])
    def cancel_selected(self, request, queryset):
        for order in queryset:
            self._run(request, order, "cancel")

    @admin.action(
        description="Send the selected orders' unsent emails again", permissions=["change"]
    )
    def retry_unsent_emails(self, request, queryset):
        count = emails.retry_unsent_emails(
            order_ids=list(queryset.values_list("pk", flat=True)), actor=request.user
        )
        if count:
            plural = "" if count == 1 else "s"
            self.message_user(
                request, f"{count} email{plural} will be sent again.", messages.SUCCESS
            )
        else:
            self.message_user(
                request, "The selected orders have no unsent email.", messages.WARNING
            )
