"""Wallets in the admin: read-only records (only services write them), and actions that
go through the services, each declaring the permission it needs: lock and unlock
(`wallets.change_wallet`), adjustments (`wallets.adjust_balance`), paying out or
rejecting withdrawals (`wallets.change_withdrawal`)."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm

from core.admin import ReadOnlyAdminMixin, ReadOnlyTabularInline, requires_permission
from core.exceptions import ShopError
from wallets import services
from wallets.models import Deposit, Earning, LedgerEntry, Wallet, Withdrawal


def _for_each(model_admin, request, queryset, action, done: str) -> None:
    """Run `action(obj)` (a service call) on each selected object; report each outcome."""
    for obj in queryset:
        try:
            action(obj)
        except ShopError as exc:
            model_admin.message_user(request, f"{obj}: {exc.detail}", messages.ERROR)
        else:
            model_admin.message_user(request, f"{obj}: {done}.", messages.SUCCESS)


class LedgerEntryInline(ReadOnlyTabularInline):
    model = LedgerEntry
    fields = [
        "sequence",
        "type",
        "amount",
        "balance_before",
        "balance_after",
        "reference",
        "note",
        "created_by",
        "created_at",
    ]
    ordering = ["-sequence"]


class WalletActionForm(ActionForm):
    amount = forms.CharField(required=False, help_text="Adjustment, e.g. 5.00 or -5.00")
    reason = forms.CharField(required=False, help_text="Why (lock, adjustment)")


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "kind", "balance", "currency", "is_locked", "updated_at"]
    list_filter = ["kind", "is_locked", "currency"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    inlines = [LedgerEntryInline]
    action_form = WalletActionForm
    actions = ["lock_selected", "unlock_selected", "adjust_selected"]

    has_lock_permission = requires_permission("wallets.change_wallet")
    has_adjust_permission = requires_permission("wallets.adjust_balance")

    @admin.action(description="Lock selected wallets (reason below)", permissions=["lock"])
    def lock_selected(self, request, queryset):
        reason = request.POST.get("reason", "").strip()

        def lock(wallet):
            services.set_wallet_lock(wallet=wallet, locked=True, reason=reason, actor=request.user)

        _for_each(self, request, queryset, lock, "locked")

    @admin.action(description="Unlock selected wallets", permissions=["lock"])
    def unlock_selected(self, request, queryset):
        def unlock(wallet):
            services.set_wallet_lock(wallet=wallet, locked=False, actor=request.user)

        _for_each(self, request, queryset, unlock, "unlocked")

    @admin.action(
        description="Adjust selected wallets' balance (amount and reason below)",
        permissions=["adjust"],
    )
    def adjust_selected(self, request, queryset):
        raw = request.POST.get("amount", "").strip()
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            self.message_user(request, f"'{raw}' is not an amount.", messages.ERROR)
            return
        reason = request.POST.get("reason", "")

        def adjust(wallet):
            services.adjust_balance(wallet=wallet, amount=amount, reason=reason, actor=request.user)

        _for_each(self, request, queryset, adjust, f"adjusted by {amount}")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "wallet",
        "sequence",
        "type",
        "amount",
        "balance_before",
        "balance_after",
        "reference",
        "created_at",
    ]
    list_filter = ["type"]
    search_fields = ["reference", "wallet__user__email"]
    list_select_related = ["wallet__user"]


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "wallet", "amount", "currency", "status", "payment_status", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "payment_intent_id", "wallet__user__email"]
    list_select_related = ["wallet__user"]
    exclude = ["client_secret"]


class WithdrawalActionForm(ActionForm):
    reason = forms.CharField(required=False, help_text="Why it is rejected")


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "wallet", "amount", "currency", "status", "decided_by", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "wallet__user__email"]
    list_select_related = ["wallet__user", "decided_by"]
    action_form = WithdrawalActionForm
    actions = ["approve_selected", "reject_selected"]

    has_decide_permission = requires_permission("wallets.change_withdrawal")

    @admin.action(description="Mark selected withdrawals paid out", permissions=["decide"])
    def approve_selected(self, request, queryset):
        def approve(withdrawal):
            services.approve_withdrawal(withdrawal=withdrawal, actor=request.user)

        _for_each(self, request, queryset, approve, "paid")

    @admin.action(
        description="Reject selected withdrawals (the amount goes back; reason below)",
        permissions=["decide"],
    )
    def reject_selected(self, request, queryset):
        reason = request.POST.get("reason", "").strip()

        def reject(withdrawal):
            services.reject_withdrawal(withdrawal=withdrawal, reason=reason, actor=request.user)

        _for_each(self, request, queryset, reject, "rejected")


@admin.register(Earning)
class EarningAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each merchant earned from each paid order (wallets.earnings writes them)."""

    list_display = ["order", "merchant", "gross", "fee_percent", "fee", "net", "created_at"]
    search_fields = ["order__id", "merchant__display_name", "merchant__user__email"]
    list_select_related = ["order", "merchant"]
