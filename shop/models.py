from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower
from django.urls import reverse


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
    """A product for sale. Catalog search (shop.search) reads `search_vector`, which
    PostgreSQL keeps in step with name, SKU and description by a trigger; it and the GIN
    indexes of the search live in migration 0004 only (SQLite, for `make run`, has neither).
    """

    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    currency = models.CharField(max_length=3, default=settings.SHOP_CURRENCY)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_gte_0"),
        ]
        # The catalog's sort orders and price range (shop.filters); ties broken by id.
        indexes = [
            models.Index(fields=["name", "id"], name="shop_product_name_id"),
            models.Index(fields=["price", "id"], name="shop_product_price_id"),
            models.Index(fields=["-created_at", "-id"], name="shop_product_newest"),
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
