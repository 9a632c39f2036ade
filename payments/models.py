from django.conf import settings
from django.db import models


class Payment(models.Model):
    """The shop's copy of a Stripe PaymentIntent for an order. Stripe is the truth for
    its status; webhooks and reconciliation keep this mirror up to date.
    """

    class Status(models.TextChoices):
        REQUIRES_PAYMENT_METHOD = "requires_payment_method", "Awaiting card"
        REQUIRES_CONFIRMATION = "requires_confirmation", "Awaiting confirmation"
        REQUIRES_ACTION = "requires_action", "Awaiting authentication"
        REQUIRES_CAPTURE = "requires_capture", "Awaiting capture"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        CANCELED = "canceled", "Canceled"

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="payment")
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True)
    client_secret = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=32, choices=Status.choices, default=Status.REQUIRES_PAYMENT_METHOD
    )
    amount_received = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # Refunds asked for or made (pending and succeeded), so two refunds cannot overdraw.
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    last_error = models.TextField(blank=True, help_text="The reason of the last decline.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_refunded__gte=0)
                & models.Q(amount_refunded__lte=models.F("amount_received")),
                name="payment_refunds_within_received",
            ),
        ]

    def __str__(self):
        return self.stripe_payment_intent_id

    @property
    def refundable(self):
        return self.amount_received - self.amount_refunded

    @property
    def in_flight(self) -> bool:
        """Confirmed by the customer, but Stripe has not finished taking the money."""
        return self.status in (self.Status.PROCESSING, self.Status.REQUIRES_CAPTURE)


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    # Refunds in these states count against what is left to refund.
    COUNTED = (Status.PENDING, Status.SUCCEEDED)

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    # Empty until Stripe accepted it; refunds are recorded first, then sent.
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=255, blank=True)
    restock = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for refunds made by the system or outside the shop.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_gt_0"),
        ]

    def __str__(self):
        return self.stripe_refund_id or f"refund {self.pk} (not sent yet)"


class WebhookEvent(models.Model):
    """A verified Stripe event, stored before it is processed so that nothing is lost."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.stripe_event_id}"
