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
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from treebeard.mp_tree import MP_Node

from shop.validators import validate_product_image


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
    email = models.EmailField(_("email address"), unique=True)
    # A guest checkout's account (shop.services.guest_account): no password, reached
    # through its orders' signed links until the guest completes it into a full account.
    is_guest = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta(AbstractUser.Meta):
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="shop_user_email_ci_unique",
                violation_error_code="email_taken",
                violation_error_message=_("A user with this email address already exists."),
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


class Category(MP_Node):
    """A node of the catalog's category tree (materialized path: one indexed `path`
    prefix finds a category's whole subtree). A product may sit in several."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    node_order_by = ["name"]

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("shop:category", kwargs={"slug": self.slug})


class ProductQuerySet(models.QuerySet):
    def purchasable(self):
        """What a cart may hold and checkout may sell: active standalone products and
        active variants of active parents; never a parent itself (it has no stock)."""
        return (
            self.filter(is_active=True)
            .exclude(structure=Product.Structure.PARENT)
            .exclude(parent__is_active=False)
        )


class Product(models.Model):
    """Something the shop sells, in one of three structures (django-oscar's):

    - standalone: sold as it is; it has its stock record (Inventory).
    - parent: a product with options (size, colour...) listed in `option_names`; never
      sold itself and without stock; its variants are.
    - child (a variant): one combination of the parent's options (`options`, e.g.
      `{"Size": "M", "Colour": "Blue"}`), with its own SKU, price and stock. It is the
      stock-keeping unit carts, checkout, inventory and orders use, exactly as a
      standalone product; it takes its categories, description and images from the
      parent and is shown on the parent's page.

    A parent's `price` is its lowest active variant's (kept by shop.variants), so lists
    show and sort it as the "from" price.

    Catalog search (shop.search) reads `search_vector`, which PostgreSQL keeps in step
    with name, SKU and description by a trigger; it and the GIN indexes of the search
    live in a migration only (SQLite, for `make run`, has neither).
    """

    class Structure(models.TextChoices):
        STANDALONE = "standalone", _("stand-alone product")
        PARENT = "parent", _("parent product (with variants)")
        CHILD = "child", _("variant")

    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    currency = models.CharField(max_length=3, default=settings.SHOP_CURRENCY)
    is_active = models.BooleanField(default=True)
    # The merchant who sells it; empty: the shop's own. Set when the product is made,
    # never changed (merchants.models explains why the profile sits below shop).
    merchant = models.ForeignKey(
        "merchants.Merchant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    categories = models.ManyToManyField(
        Category, blank=True, related_name="products", verbose_name=_("categories")
    )
    structure = models.CharField(
        _("structure"), max_length=10, choices=Structure.choices, default=Structure.STANDALONE
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="variants",
        verbose_name=_("parent product"),
    )
    option_names = models.JSONField(
        _("option names"),
        default=list,
        blank=True,
        help_text=_('A parent\'s options, in the order shown, e.g. ["Size", "Colour"].'),
    )
    options = models.JSONField(
        _("options"),
        default=dict,
        blank=True,
        help_text=_('A variant\'s value of each option, e.g. {"Size": "M", "Colour": "Blue"}.'),
    )
    # False for what is never shipped (downloads, gift cards): an order of only such
    # products needs no address or shipping method.
    requires_shipping = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_gte_0"),
            # A variant, and only a variant, has a parent.
            models.CheckConstraint(
                condition=models.Q(structure="child", parent__isnull=False)
                | (~models.Q(structure="child") & models.Q(parent__isnull=True)),
                name="product_parent_iff_child",
            ),
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
        if self.is_child:  # a variant is shown, chosen, on its parent's page
            url = reverse("shop:product", kwargs={"slug": self.parent.slug})
            return f"{url}?variant={self.pk}"
        return reverse("shop:product", kwargs={"slug": self.slug})

    @property
    def is_parent(self) -> bool:
        return self.structure == self.Structure.PARENT

    @property
    def is_child(self) -> bool:
        return self.structure == self.Structure.CHILD

    @property
    def option_label(self) -> str:
        """A variant's values in its parent's option order: "M / Blue" (PostgreSQL's
        jsonb keeps no key order, the parent's `option_names` does)."""
        names = self.parent.option_names if self.parent_id else list(self.options)
        return " / ".join(str(self.options.get(name, "")) for name in names)

    def clean(self):
        """The rules of each structure (django-oscar's `Product.clean`)."""
        super().clean()
        if self.is_child:
            self._clean_child()
        elif self.parent_id or self.options:
            raise ValidationError(_("Only a variant has a parent product and option values."))
        if self.is_parent:
            names = self.option_names
            if (
                not isinstance(names, list)
                or not names
                or not all(isinstance(n, str) and n.strip() for n in names)
                or len({n.strip().casefold() for n in names}) != len(names)
            ):
                raise ValidationError(
                    {"option_names": _("List the options by name, each once, e.g. Size, Colour.")}
                )
        elif self.option_names:
            raise ValidationError({"option_names": _("Only a parent product has options.")})

    def _clean_child(self):
        parent = self.parent
        if parent is None or not parent.is_parent:
            raise ValidationError({"parent": _("A variant's parent must be a parent product.")})
        values = self.options
        if (
            not isinstance(values, dict)
            or set(values) != set(parent.option_names)
            or not all(isinstance(v, str) and v.strip() for v in values.values())
        ):
            raise ValidationError(
                {
                    "options": _("Give a value for each option of %(parent)s: %(names)s.")
                    % {"parent": parent.name, "names": ", ".join(parent.option_names)}
                }
            )
        # "s / rot" repeats "S / Rot": customers would see both.
        folded = {name: value.strip().casefold() for name, value in values.items()}
        siblings = Product.objects.filter(parent=parent).exclude(pk=self.pk).only("options")
        if any(
            {name: str(value).strip().casefold() for name, value in sibling.options.items()}
            == folded
            for sibling in siblings
        ):
            raise ValidationError(
                {
                    "options": _("%(parent)s already has a variant %(label)s.")
                    % {"parent": parent.name, "label": self.option_label}
                }
            )

    def units_available(self) -> int:
        """Units a customer can buy now: a parent's are its active variants' together
        (from prefetched `variants` with their inventory when the list prefetched them)."""
        if self.is_parent:
            return sum(v.units_available() for v in self.variants.all() if v.is_active)
        try:
            return self.inventory.available
        except Inventory.DoesNotExist:
            return 0


class ProductImage(models.Model):
    """One of a product's pictures, in `position` order (the first is its main one).

    `renditions` lists the thumbnails shop.images generated once for it:
    `[{"name", "width", "height"}]` in the media storage, narrowest first.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        _("image"),
        upload_to="products/%Y/%m/",
        width_field="width",
        height_field="height",
        validators=[validate_product_image],
        help_text=_("JPEG, PNG or WebP."),
    )
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    alt = models.CharField(
        _("alternative text"),
        max_length=200,
        help_text=_("What the picture shows, for people who cannot see it."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    renditions = models.JSONField(default=list, editable=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("product image")
        verbose_name_plural = _("product images")

    def __str__(self):
        return self.alt

    @property
    def srcset(self) -> str:
        storage = self.image.storage
        return ", ".join(f"{storage.url(r['name'])} {r['width']}w" for r in self.renditions)

    @property
    def fallback(self) -> dict:
        """The thumbnail for `src` (browsers without srcset) and the box's aspect ratio:
        the middle width, or the original before thumbnails exist."""
        if not self.renditions:
            return {"url": self.image.url, "width": self.width, "height": self.height}
        chosen = self.renditions[min(1, len(self.renditions) - 1)]
        return {**chosen, "url": self.image.storage.url(chosen["name"])}


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
        return f"{self.full_name}, {self.line1}, {self.city}, {self.country.name}"

    def snapshot(self) -> dict:
        """The address as an order keeps it (plain strings, country as its code)."""
        data = {field: getattr(self, field) for field in self.SNAPSHOT_FIELDS}
        data["country"] = self.country.code
        return data
