import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.money import MONEY


class Wallet(models.Model):
    """A user's balance in the shop currency. `balance` and `entry_count` change only
    through `wallets.ledger`, which appends a LedgerEntry under this row's lock; the
    balance always equals the sum of the wallet's entries (wallets.selectors checks it).
    """

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        # May go below zero, and only through the reversal of earnings on a refund.
        MERCHANT = "merchant", _("Merchant")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CUSTOMER)
    currency = models.CharField(max_length=3)
    balance = models.DecimalField(**MONEY, default=Decimal("0.00"))
    # The sequence number of the newest entry (0: none yet).
    entry_count = models.PositiveIntegerField(default=0)
    is_locked = models.BooleanField(
        default=False, help_text="A locked wallet cannot pay or withdraw."
    )
    locked_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="merchant") | models.Q(balance__gte=0),
                name="wallet_customer_balance_gte_0",
            ),
        ]
        permissions = [("adjust_balance", "Can make adjustment entries in wallets")]

    def __str__(self):
        return f"Wallet of {self.user}"


class EntryType(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    WITHDRAWAL = "withdrawal", _("Withdrawal")
    WITHDRAWAL_REVERSAL = "withdrawal_reversal", _("Withdrawal reversed")
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")
    EARNING = "earning", _("Earning")
    EARNING_REVERSAL = "earning_reversal", _("Earning reversed")
    ADJUSTMENT = "adjustment", _("Adjustment")


# The sign of an entry's amount follows from its type (adjustments go either way).
CREDIT_TYPES = (
    EntryType.DEPOSIT,
    EntryType.WITHDRAWAL_REVERSAL,
    EntryType.REFUND,
    EntryType.EARNING,
)
DEBIT_TYPES = (EntryType.WITHDRAWAL, EntryType.PAYMENT, EntryType.EARNING_REVERSAL)
# Types that happen at most once per wallet and reference (a deposit is credited once,
# an order paid once...): a unique constraint backs the services' own checks.
ONCE_PER_REFERENCE = (
    EntryType.DEPOSIT,
    EntryType.WITHDRAWAL,
    EntryType.WITHDRAWAL_REVERSAL,
    EntryType.PAYMENT,
    EntryType.EARNING,
    EntryType.EARNING_REVERSAL,
)


class LedgerEntry(models.Model):
    """One movement of a wallet's balance. Append-only: a PostgreSQL trigger rejects
    UPDATE and DELETE, and checks on INSERT that the entry starts where the wallet's
    previous one ended (wallets/migrations/0002)."""

    Type = EntryType

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    # 1, 2, 3... per wallet: entry n starts where entry n - 1 ended.
    sequence = models.PositiveIntegerField()
    type = models.CharField(max_length=32, choices=Type.choices)
    amount = models.DecimalField(**MONEY, help_text="Credits positive, debits negative.")
    balance_before = models.DecimalField(**MONEY)
    balance_after = models.DecimalField(**MONEY)
    # What the entry is for: the order, deposit or withdrawal id.
    reference = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=255, blank=True, help_text="An adjustment's reason.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for entries made by the system.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(fields=["wallet", "sequence"], name="ledger_unique_sequence"),
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1), name="ledger_sequence_gte_1"
            ),
            models.CheckConstraint(
                condition=models.Q(balance_after=models.F("balance_before") + models.F("amount")),
                name="ledger_balance_after_is_before_plus_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=CREDIT_TYPES, amount__gt=0)
                | models.Q(type__in=DEBIT_TYPES, amount__lt=0)
                | (models.Q(type=EntryType.ADJUSTMENT) & ~models.Q(amount=0)),
                name="ledger_amount_sign_matches_type",
            ),
            models.UniqueConstraint(
                fields=["wallet", "type", "reference"],
                condition=models.Q(type__in=ONCE_PER_REFERENCE),
                name="ledger_once_per_reference",
            ),
        ]
        indexes = [models.Index(fields=["reference", "type"], name="ledger_reference_idx")]

    def __str__(self):
        return f"{self.get_type_display()} {self.amount} (wallet {self.wallet_id} #{self.sequence})"


class Deposit(models.Model):
    """A top-up of a wallet by card: a Stripe PaymentIntent (made and followed by
    payments, like an order's), credited to the wallet once when it succeeds."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        CANCELED = "canceled", _("Canceled")

    MIN_AMOUNT = Decimal("1.00")
    MAX_AMOUNT = Decimal("10000.00")
    # A deposit not paid within this time is abandoned: reconciliation cancels its
    # PaymentIntent (asking Stripe first, so a payment that went through is credited).
    PAYABLE_FOR = timedelta(hours=1)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="deposits")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # NULL, not "": deposits without a key must not collide in the unique constraint.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # The PaymentIntent, as Stripe last reported it (payments keeps it up to date).
    payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=255, blank=True)
    payment_status = models.CharField(max_length=32, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="deposit_unique_idempotency_key_per_wallet",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="deposit_amount_gt_0"),
        ]

    def __str__(self):
        return f"Deposit {str(self.id)[:8]} of {self.amount}"


class Withdrawal(models.Model):
    """A payout the customer asked for. The amount leaves the balance when it is asked
    for; staff pay it out (`paid`) or reject it, which gives the amount back."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        # Paid out to the customer ("Paid" alone is an order's status).
        PAID = "paid", pgettext_lazy("withdrawal status", "Paid")
        REJECTED = "rejected", _("Rejected")

    MIN_AMOUNT = Decimal("0.01")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="withdrawals")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True, help_text="Why it was rejected.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="withdrawal_amount_gt_0"),
        ]

    def __str__(self):
        return f"Withdrawal {str(self.id)[:8]} of {self.amount}"


class Earning(models.Model):
    """A merchant's share of a paid order (wallets.earnings): the sum of their lines
    (`gross`) less the shop's fee of `fee_percent`, rounded half up; `net` was credited
    to their wallet by `entry`, in the transaction that made the order paid. Written
    once; a full refund reverses it by an `earning_reversal` entry (same wallet, the
    order as reference), never by changing this row."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="earnings")
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, related_name="earnings"
    )
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="earnings")
    gross = models.DecimalField(**MONEY, help_text="The merchant's line totals in the order.")
    fee_percent = models.DecimalField(max_digits=5, decimal_places=2)
    fee = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    # Empty only when there was nothing to credit (lines of 0.00).
    entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="earning"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "merchant"], name="earning_once_per_order"),
            models.CheckConstraint(
                condition=models.Q(gross=models.F("fee") + models.F("net")),
                name="earning_gross_is_fee_plus_net",
            ),
            models.CheckConstraint(
                condition=models.Q(fee__gte=0, net__gte=0), name="earning_fee_and_net_gte_0"
            ),
        ]

    def __str__(self):
        return f"Earning {self.net} of {self.merchant_id} on {str(self.order_id)[:8]}"
