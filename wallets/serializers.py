"""Serializers of the wallet API: the wallet, its ledger, deposits and withdrawals."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import StrictSerializer
from core.money import MONEY
from wallets.models import Deposit, LedgerEntry, Wallet, Withdrawal

# --- input -------------------------------------------------------------------------------


class DepositCreateSerializer(StrictSerializer):
    amount = serializers.DecimalField(
        **MONEY, min_value=Deposit.MIN_AMOUNT, max_value=Deposit.MAX_AMOUNT
    )


class WithdrawalCreateSerializer(StrictSerializer):
    amount = serializers.DecimalField(**MONEY, min_value=Withdrawal.MIN_AMOUNT)


# --- output ------------------------------------------------------------------------------


class WalletSerializer(serializers.ModelSerializer):
    balance = serializers.DecimalField(**MONEY)

    class Meta:
        model = Wallet
        fields = ["balance", "currency", "is_locked"]
        read_only_fields = fields


class LedgerEntrySerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**MONEY)
    balance_before = serializers.DecimalField(**MONEY)
    balance_after = serializers.DecimalField(**MONEY)

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "type",
            "amount",
            "balance_before",
            "balance_after",
            "reference",
            "created_at",
        ]
        read_only_fields = fields


class DepositPaymentSerializer(serializers.Serializer):
    payment_intent_id = serializers.CharField()
    client_secret = serializers.CharField(
        allow_null=True, help_text="Only while the deposit is pending."
    )
    status = serializers.CharField(help_text="The PaymentIntent's status at Stripe.")


class DepositSerializer(serializers.ModelSerializer):
    """A deposit; its `payment` is null until its PaymentIntent exists."""

    amount = serializers.DecimalField(**MONEY)
    payment = serializers.SerializerMethodField()

    class Meta:
        model = Deposit
        fields = ["id", "amount", "currency", "status", "payment"]
        read_only_fields = fields

    @extend_schema_field(DepositPaymentSerializer(allow_null=True))
    def get_payment(self, deposit):
        if not deposit.payment_intent_id:
            return None
        pending = deposit.status == Deposit.Status.PENDING
        return {
            "payment_intent_id": deposit.payment_intent_id,
            "client_secret": (deposit.client_secret or None) if pending else None,
            "status": deposit.payment_status,
        }


class WithdrawalSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**MONEY)

    class Meta:
        model = Withdrawal
        fields = ["id", "amount", "status"]
        read_only_fields = fields
