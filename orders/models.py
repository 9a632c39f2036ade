import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition


class Order(FSMModelMixin, models.Model):
    """A customer's order. `status` changes only through the transitions below,
    and only `orders.services` calls them (it does the stock and audit side effects).
    """

    class Status(models.TextChoices):
        CREATED = "created", _("Awaiting payment")
        PAYMENT_PENDING = "payment_pending", _("Payment pending")
        PAID = "paid", _("Paid")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Payment failed")
        REFUNDED = "refunded", _("Refunded")

    # Orders that still hold reserved stock.
    HOLDING_STOCK = (Status.CREATED, Status.PAYMENT_PENDING)
    # Orders whose goods have left the shop (unless refunded and restocked).
    SOLD = (Status.PAID, Status.FULFILLED, Status.REFUNDED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    status = FSMField(default=Status.CREATED, choices=Status.choices, protected=True, db_index=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    # The breakdown as checkout priced it (pricing.totals); total is its sum (CHECK below).
    # Database defaults too, so rows inserted without them (older code, raw SQL) hold.
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    # Snapshots: what the customer chose, as it was at checkout.
    shipping_address = models.JSONField(null=True, blank=True)
    shipping_method_code = models.CharField(max_length=50, blank=True, db_default="")
    shipping_method_name = models.CharField(max_length=100, blank=True, db_default="")
    coupon_code = models.CharField(max_length=50, blank=True, db_default="")
    # The coupon itself, so a late payment can take its use again (orders.services).
    coupon = models.ForeignKey(
        "pricing.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # NULL, not "": orders without a key must not collide in the unique constraint.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # Hash of the checkout request, so a reused idempotency key with another cart is caught.
    request_fingerprint = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(help_text="The stock reservation ends at this time.")
    restocked = models.BooleanField(default=False, help_text="Refunded goods went back into stock.")
    # Set when staff fulfil the order: how it travels, for the shipped email and pages.
    # Database defaults too: raw inserts (the benchmark floors) need not name them.
    carrier = models.CharField(_("carrier"), max_length=100, blank=True, default="", db_default="")
    tracking_number = models.CharField(
        _("tracking number"), max_length=100, blank=True, default="", db_default=""
    )
    # The language the customer shopped in (LocaleMiddleware's): their emails speak it.
    language = models.CharField(max_length=10, blank=True, default="", db_default="")
    needs_review = models.BooleanField(default=False, db_index=True)
    review_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="order_unique_idempotency_key_per_user",
            ),
            models.CheckConstraint(condition=models.Q(total__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(
                condition=models.Q(
                    total=models.F("subtotal")
                    - models.F("discount_total")
                    + models.F("shipping_total")
                    + models.F("tax_total")
                ),
                name="order_total_is_its_breakdown",
            ),
            models.CheckConstraint(
                condition=models.Q(discount_total__gte=0, shipping_total__gte=0, tax_total__gte=0)
                & models.Q(discount_total__lte=models.F("subtotal")),
                name="order_breakdown_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="order_status_expiry_idx"),
            # A customer's orders newest first (the API's list, the order pages): a page
            # and its count read the index, however many orders the shop holds
            # (bench.growth).
            models.Index(fields=["user", "-created_at", "-id"], name="order_user_newest_idx"),
        ]

    def __str__(self):
        return f"Order {self.short_id}"

    def get_absolute_url(self):
        return reverse("orders:detail", kwargs={"pk": self.pk})

    @property
    def short_id(self) -> str:
        return str(self.id)[:8]

    @property
    def holds_stock(self) -> bool:
        """Still awaiting its payment, with its stock reserved."""
        return self.status in self.HOLDING_STOCK

    @property
    def shipping_method(self) -> dict | None:
        """`{code, name}` of the shipping method chosen at checkout, or None."""
        if not self.shipping_method_code:
            return None
        return {"code": self.shipping_method_code, "name": self.shipping_method_name}

    # Transitions: bodies stay empty; orders.services does the work around them.

    @transition(field=status, source=Status.CREATED, target=Status.PAYMENT_PENDING)
    def start_payment(self):
        pass

    @transition(field=status, source=Status.PAYMENT_PENDING, target=Status.PAID)
    def mark_paid(self):
        pass

    @transition(field=status, source=Status.PAID, target=Status.FULFILLED)
    def fulfil(self):
        pass

    @transition(
        field=status, source=[Status.CREATED, Status.PAYMENT_PENDING], target=Status.CANCELLED
    )
    def cancel(self):
        pass

    # `created` may expire too: an order whose PaymentIntent could never be made
    # must not hold its stock forever.
    @transition(
        field=status, source=[Status.CREATED, Status.PAYMENT_PENDING], target=Status.EXPIRED
    )
    def expire(self):
        pass

    @transition(field=status, source=Status.PAYMENT_PENDING, target=Status.FAILED)
    def fail(self):
        pass

    @transition(field=status, source=[Status.PAID, Status.FULFILLED], target=Status.REFUNDED)
    def refund(self):
        pass

    @transition(
        field=status,
        source=[Status.EXPIRED, Status.CANCELLED, Status.FAILED],
        target=Status.PAID,
    )
    def recover_late_payment(self):
        pass


class OrderItem(models.Model):
    """A line of an order, with the product's name, SKU and price as they were at checkout."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("shop.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="orderitem_unique_product"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, quantity__lte=1000),
                name="orderitem_quantity_1_1000",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.name}"


class OrderEmail(models.Model):
    """One transactional email about an order: at most one per (order, kind, reference).

    The outbox: services insert the row in the transaction that causes the email, so
    it exists exactly when the change committed. `orders.emails` sends it later and sets
    `sent_at` in the transaction that hands it to the mail server, so a row with
    `sent_at` is never sent again. Unsent rows are picked up again at `next_attempt_at`.
    """

    class Kind(models.TextChoices):
        PLACED = "placed", "Order placed"
        PAID = "paid", "Payment received"
        DECLINED = "declined", "Payment declined"
        FULFILLED = "fulfilled", "Order fulfilled"
        REFUNDED = "refunded", "Refund"
        CANCELLED = "cancelled", "Order cancelled"
        EXPIRED = "expired", "Reservation expired"

    # The first try and 8 retries, the last about two hours after the first.
    MAX_ATTEMPTS = 9

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # What makes an email of a kind that can repeat distinct: the refund it announces.
    reference = models.CharField(max_length=64, blank=True, default="")
    # What the email says beyond the order itself (a refund's amount).
    context = models.JSONField(default=dict, blank=True)
    recipient = models.EmailField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="An unsent email is (re)tried from this time on."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind", "reference"], name="orderemail_unique_order_kind_ref"
            ),
        ]
        indexes = [
            # The dispatcher's scan: only unsent rows, by due time.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent_at__isnull=True),
                name="orderemail_unsent_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} email for order {str(self.order_id)[:8]}"

    @property
    def gave_up(self) -> bool:
        """Unsent after every attempt: nobody tries again unless staff ask for it."""
        return self.sent_at is None and self.attempts >= self.MAX_ATTEMPTS
