from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


def login_key(email: str) -> str:
    """An address as sign-in compares it: letter case does not matter (User's unique
    Lower("email")), so "Ann@Example.com" and "ann@example.com" are one account, and one
    account to the brute-force limits (config.security)."""
    return email.strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # Every sign-in (the pages, the admin, the API token) and createsuperuser look the
        # account up here: whatever the letter case, the unique Lower("email") finds one.
        return self.alias(email_lower=Lower("email")).get(email_lower=Lower(Value(username)))


class User(AbstractUser):
    """A customer or, with is_staff, a member of staff. Logs in with the email address.

    The address is stored as typed, with its domain in lower case (normalize_email): the
    local part is the owner's to spell. It is unique whatever the letter case, and sign-in
    ignores the case.
    """

    username = None
    email = models.EmailField("email address", unique=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta(AbstractUser.Meta):
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="shop_user_email_ci_unique",
                violation_error_code="email_taken",
                violation_error_message="A user with this email address already exists.",
            ),
        ]

    def __str__(self):
        return self.email

    def validate_constraints(self, exclude=None):
        # The address taken in another letter case is the email field's error, as an exact
        # duplicate is (unique=True): forms show it under the field.
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            errors = error.error_dict
            general = errors.pop(NON_FIELD_ERRORS, [])
            taken = [e for e in general if e.code == "email_taken"]
            if taken:
                errors.setdefault("email", []).extend(taken)
            if general := [e for e in general if e.code != "email_taken"]:
                errors[NON_FIELD_ERRORS] = general
            raise ValidationError(errors) from None


class Product(models.Model):
    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    currency = models.CharField(max_length=3, default=settings.SHOP_CURRENCY)
    is_active = models.BooleanField(default=True)
    # False for what is never shipped (downloads, gift cards): an order of only such
    # products needs no address or shipping method.
    requires_shipping = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self):
        return reverse("shop:product", kwargs={"slug": self.slug})


class Inventory(models.Model):
    """Stock of one product. Only `shop.inventory` writes these counters.

    `received` is the net stock staff brought in (initial stock, restocks, adjustments);
    for every product: received == available + reserved + sold.
    """

    product = models.OneToOneField(
        Product, primary_key=True, on_delete=models.CASCADE, related_name="inventory"
    )
    available = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    received = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "inventories"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(available__gte=0), name="inventory_available_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__gte=0), name="inventory_reserved_gte_0"
            ),
        ]

    def __str__(self):
        return f"{self.product_id}: {self.available} available, {self.reserved} reserved"

    def snapshot(self) -> dict:
        return {"available": self.available, "reserved": self.reserved, "received": self.received}


class Cart(models.Model):
    """A signed-in customer's cart. Anonymous carts live in the session (see shop.cart)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Cart of {self.user}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cartitem_unique_product"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, quantity__lte=1000),
                name="cartitem_quantity_1_1000",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product_id}"


class Address(models.Model):
    """An entry of a customer's address book. Orders copy it (`snapshot`), so changing or
    deleting an address never changes an order."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    full_name = models.CharField(_("full name"), max_length=200)
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    # A state, province or county: the tax rate of (country, region) wins over the country's.
    region = models.CharField(_("region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20)
    country = CountryField(_("country"))  # ISO 3166-1 alpha-2, upper case
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    SNAPSHOT_FIELDS = (
        "full_name",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
        "phone",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "addresses"

    def __str__(self):
        return f"{self.full_name}, {self.line1}, {self.city}, {self.country.code}"

    def snapshot(self) -> dict:
        """The address as an order keeps it (plain strings, country as its code)."""
        data = {field: getattr(self, field) for field in self.SNAPSHOT_FIELDS}
        data["country"] = self.country.code
        return data
