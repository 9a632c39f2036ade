from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm

from core.admin import ReadOnlyAdminMixin, ReadOnlyTabularInline, requires_permission
from core.exceptions import ShopError
from payments.models import Payment, Refund, WebhookEvent
from payments.services import refund_payment
from payments.webhooks import process_event


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

    # The same permission as POST orders/{id}/refund (API.md "Staff permissions").
    has_refund_permission = requires_permission("payments.add_refund")

    @admin.action(
        description="Refund selected payments (amount and restock below)", permissions=["refund"]
    )
    def refund(self, request, queryset):
        raw = request.POST.get("amount", "").strip()
        try:
            amount = Decimal(raw) if raw else None
        except InvalidOperation:
            self.message_user(request, f"'{raw}' is not an amount.", messages.ERROR)
            return
        restock = request.POST.get("restock") == "on"
        for payment in queryset.select_related("order"):
            try:
                refund = refund_payment(
                    order=payment.order, actor=request.user, amount=amount, restock=restock
                )
            except ShopError as exc:
                self.message_user(request, f"{payment}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{payment}: refund of {refund.amount} recorded.", messages.SUCCESS
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
