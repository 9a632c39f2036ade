from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.admin import (
    ReadOnlyAdminMixin,
    ReadOnlyTabularInline,
    confirm_action,
    confirmed,
    requires_permission,
)
from core.exceptions import ShopError
from core.templatetags.money import money
from orders.models import Order
from payments.models import Payment, Refund, WebhookEvent
from payments.selectors import refundable_amount
from payments.services import REFUND_REASON_LENGTH, check_refund, refund_payment
from payments.webhooks import process_event

# The same permission as POST orders/{id}/refund (API.md "Staff permissions").
REFUND_PERMISSION = "payments.add_refund"


class RefundInline(ReadOnlyTabularInline):
    model = Refund
    fields = [
        "stripe_refund_id",
        "amount",
        "status",
        "reason",
        "restock",
        "created_by",
        "created_at",
    ]


class RefundActionForm(ActionForm):
    amount = forms.CharField(required=False, help_text="Empty: refund everything left")
    restock = forms.BooleanField(required=False, help_text="Return the goods to stock")


class OrderRefundForm(forms.Form):
    """The refund form on an order's admin page (templates/admin/orders/order/change_form.html)."""

    amount = forms.DecimalField(
        required=False, min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    restock = forms.BooleanField(required=False)
    reason = forms.CharField(required=False, max_length=REFUND_REASON_LENGTH)
    # What was left to refund when staff confirmed (carried by the confirmation page).
    remaining = forms.DecimalField(required=False, max_digits=12, decimal_places=2)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "stripe_payment_intent_id",
        "order",
        "status",
        "amount",
        "amount_received",
        "amount_refunded",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["stripe_payment_intent_id", "order__id", "order__user__email"]
    list_select_related = ["order"]
    inlines = [RefundInline]
    action_form = RefundActionForm
    actions = ["refund"]
    exclude = ["client_secret"]

    has_refund_permission = requires_permission(REFUND_PERMISSION)

    def get_urls(self):
        return [
            path(
                "order/<uuid:order_id>/refund/",
                self.admin_site.admin_view(require_POST(self.refund_order_view)),
                name="payments_payment_refund_order",
            ),
            *super().get_urls(),
        ]

    def refund_order_view(self, request, order_id):
        """The refund form of the order's admin page: check, ask, then refund_payment."""
        if not self.has_refund_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=order_id)
        back = reverse("admin:orders_order_change", args=[order.pk])
        form = OrderRefundForm(request.POST)
        if not form.is_valid():
            errors = "; ".join(
                f"{name}: {error}" for name, errs in form.errors.items() for error in errs
            )
            self.message_user(request, f"{order}: {errors}", messages.ERROR)
            return redirect(back)
        amount, restock, reason = (form.cleaned_data[k] for k in ("amount", "restock", "reason"))
        if not confirmed(request):
            try:  # ask only about a refund that can happen
                check_refund(order=order, amount=amount, restock=restock)
            except ShopError as exc:
                self.message_user(request, f"{order}: {exc.detail}", messages.ERROR)
                return redirect(back)
            remaining = refundable_amount(order=order)
            return confirm_action(
                request,
                self,
                title=_("Refund %(order)s?") % {"order": order},
                question=_("Refund order %(order)s of %(customer)s?")
                % {"order": order.short_id, "customer": order.user.email},
                details=[
                    (
                        _("Amount"),
                        _("everything left") if amount is None else money(amount, order.currency),
                    ),
                    (_("Return the goods to stock"), _("yes") if restock else _("no")),
                    (_("Reason"), reason or "-"),
                ],
                action_url=request.path,
                back_url=back,
                confirm_label=_("Yes, refund"),
                hidden=[
                    ("amount", "" if amount is None else amount),
                    *([("restock", "on")] if restock else []),
                    ("reason", reason),
                    *([("remaining", remaining)] if remaining is not None else []),
                ],
            )
        try:
            refund = refund_payment(
                order=order,
                actor=request.user,
                amount=amount,
                restock=restock,
                reason=reason,
                expected_remaining=form.cleaned_data["remaining"],
            )
        except ShopError as exc:
            self.message_user(request, f"{order}: {exc.detail}", messages.ERROR)
        else:
            self.message_user(
                request,
                _("%(order)s: refund of %(amount)s recorded.")
                % {"order": order, "amount": money(refund.amount, order.currency)},
                messages.SUCCESS,
            )
        return redirect(back)

    @admin.action(
        description=gettext_lazy("Refund selected payments (amount and restock below)"),
        permissions=["refund"],
    )
    def refund(self, request, queryset):
        raw = request.POST.get("amount", "").strip()
        try:
            amount = Decimal(raw) if raw else None
        except InvalidOperation:
            self.message_user(request, f"'{raw}' is not an amount.", messages.ERROR)
            return None
        restock = request.POST.get("restock") == "on"
        if not confirmed(request):
            payments = []  # ask only about refunds that can happen
            for payment in queryset.select_related("order"):
                try:
                    check_refund(order=payment.order, amount=amount, restock=restock)
                except ShopError as exc:
                    self.message_user(request, f"{payment}: {exc.detail}", messages.ERROR)
                else:
                    payments.append(payment)
            if not payments:
                return None
            return confirm_action(
                request,
                self,
                title=_("Refund the selected payments?"),
                question=_("Refund %(amount)s of each of these payments?")
                % {"amount": raw or _("everything left")},
                details=[(_("Return the goods to stock"), _("yes") if restock else _("no"))],
                objects=[f"{p} ({p.order})" for p in payments],
                action_url=request.get_full_path(),
                back_url=request.get_full_path(),
                confirm_label=_("Yes, refund"),
                hidden=[
                    ("action", "refund"),
                    ("amount", raw),
                    *([("restock", "on")] if restock else []),
                    *((ACTION_CHECKBOX_NAME, str(p.pk)) for p in payments),
                ],
            )
        for payment in queryset.select_related("order"):
            try:
                refund = refund_payment(
                    order=payment.order, actor=request.user, amount=amount, restock=restock
                )
            except ShopError as exc:
                self.message_user(request, f"{payment}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(order)s: refund of %(amount)s recorded.")
                    % {"order": payment, "amount": money(refund.amount, payment.currency)},
                    messages.SUCCESS,
                )


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["stripe_event_id", "type", "status", "attempts", "received_at", "processed_at"]
    list_filter = ["status", "type"]
    search_fields = ["stripe_event_id"]
    actions = ["replay"]

    # Replaying re-processes the stored event: it changes the event (status, attempts) and,
    # through it, orders and payments. The model's own change permission says who may;
    # nobody changes an event any other way (ReadOnlyAdminMixin).
    has_replay_permission = requires_permission("payments.change_webhookevent")

    @admin.action(description="Process selected events again", permissions=["replay"])
    def replay(self, request, queryset):
        for event in queryset:
            try:
                process_event(event=event, force=True)
            except Exception as exc:
                self.message_user(request, f"{event}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{event}: processed.", messages.SUCCESS)
