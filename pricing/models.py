"""Shipping methods, tax rates and coupons: what turns an order's subtotal into its total
(pricing.totals). Orders keep a snapshot of what was applied; nothing here changes an
order after checkout."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from core.money import MONEY

ZERO = Decimal("0.00")


class ShippingMethod(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    price = models.DecimalField(_("price"), **MONEY, validators=[MinValueValidator(ZERO)])
    free_over = models.DecimalField(
        _("free over"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text=_("Shipping costs nothing when the subtotal is at or above this amount."),
    )
    # Stored as "DE,AT,CH": every code is two letters, so `countries__contains="DE"`
    # matches exactly the methods that ship to DE.
    countries = CountryField(_("countries"), multiple=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["price", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="shippingmethod_price_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(free_over__isnull=True) | models.Q(free_over__gte=0),
                name="shippingmethod_free_over_gte_0",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def ships_to(self, country: str) -> bool:
        return country.upper() in {c.code for c in self.countries}


class TaxRate(models.Model):
    """A percentage of tax for a country, or for one region of it (which wins)."""

    country = CountryField(_("country"))
    # Blank: the whole country. Matched to an address's region ignoring case.
    region = models.CharField(_("region"), max_length=100, blank=True)
    rate = models.DecimalField(
        _("rate (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        ordering = ["country", "region"]
        constraints = [
            models.UniqueConstraint(
                "country",
                Lower("region"),
                name="taxrate_unique_country_region",
                violation_error_message=_("A tax rate for this country and region already exists."),
            ),
            models.CheckConstraint(
                condition=models.Q(rate__gte=0, rate__lte=100), name="taxrate_rate_0_100"
            ),
        ]

    def __str__(self):
        where = f"{self.country.code}/{self.region}" if self.region else self.country.code
        return f"{where}: {self.rate}%"


class Coupon(models.Model):
    """A discount code. Each order holding a use has a CouponUse row. A limited coupon
    (`max_uses` or `max_uses_per_customer` set) also counts them in `uses`, changed only
    in pricing.coupons under the coupon's row lock; an unlimited one leaves `uses` alone
    (its checkouts need not wait for each other) and is counted afresh when staff limit
    it (pricing.services)."""

    class Kind(models.TextChoices):
        PERCENT = "percent", _("Percent off the subtotal")
        FIXED = "fixed", _("Fixed amount off the subtotal")
        FREE_SHIPPING = "free_shipping", _("Free shipping")

    code = models.CharField(_("code"), max_length=50)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.DecimalField(
        _("value"),
        **MONEY,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
        help_text=_("Percent (0 to 100) or an amount; ignored for free shipping."),
    )
    min_subtotal = models.DecimalField(
        _("minimum subtotal"), **MONEY, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("max uses"), null=True, blank=True)
    max_uses_per_customer = models.PositiveIntegerField(
        _("max uses per customer"), null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    uses = models.PositiveIntegerField(_("uses"), default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("code"),
                name="coupon_code_ci_unique",
                violation_error_message=_("A coupon with this code already exists."),
            ),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="coupon_value_gte_0"),
            models.CheckConstraint(
                condition=~models.Q(kind="percent") | models.Q(value__lte=100),
                name="coupon_percent_lte_100",
                violation_error_message=_("A percentage is at most 100."),
            ),
            # The database itself refuses a use beyond max_uses.
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True)
                | models.Q(uses__lte=models.F("max_uses")),
                name="coupon_uses_lte_max_uses",
            ),
        ]

    def __str__(self):
        return self.code

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must come after the start.")})

    def is_valid_at(self, when) -> bool:
        return (
            self.is_active
            and (self.starts_at is None or self.starts_at <= when)
            and (self.ends_at is None or when < self.ends_at)
        )

    @property
    def is_current(self) -> bool:
        return self.is_valid_at(timezone.now())

    @property
    def is_limited(self) -> bool:
        return self.max_uses is not None or self.max_uses_per_customer is not None


class CouponUse(models.Model):
    """One order holding a use of a coupon, from checkout until the order is paid (then
    for good) or ends unpaid (then the row goes and `Coupon.uses` drops by one).

    `order_id` is a plain UUID, not a foreign key: orders sit above pricing and own the
    link (Order.coupon_code is the snapshot); a unique order id makes a second use or a
    second give-back of one order impossible.
    """

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="use_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    order_id = models.UUIDField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["coupon", "user"], name="couponuse_coupon_user_idx")]

    def __str__(self):
        return f"{self.coupon} on order {str(self.order_id)[:8]}"
