"""Serializers of the accounts, catalog, inventory and cart API.

Input serializers derive from core.api.StrictSerializer: unknown or read-only fields
are a 400. Output serializers are read-only views of models and service results.
"""

from decimal import Decimal

from django.contrib.auth.signals import user_logged_in
from django.db import models
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)

from core.api import RejectUnknownFieldsMixin, StrictSerializer, TextField
from core.money import MONEY
from shop.addresses import FIELDS
from shop.cart import MAX_QUANTITY
from shop.models import Address, Category, Inventory, Product, ProductImage, User

# The most units one stock movement (initial stock, an adjustment) may bring in or take
# away through the API: far above any real delivery, far below the column's range.
MAX_STOCK_CHANGE = 1_000_000

# --- accounts --------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "is_staff"]
        read_only_fields = fields


class RegisterSerializer(StrictSerializer):
    """The input's shape only: shop.services.register_customer checks the address is
    free and the password strong."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RegisteredSerializer(TokenPairSerializer):
    user = UserSerializer()


class LoginSerializer(RejectUnknownFieldsMixin, TokenObtainPairSerializer):
    """simplejwt's login ({email, password}), rejecting unknown fields.

    A token is a sign-in like the pages': it sends `user_logged_in`, so last_login is set
    and the brute-force records (config.security) see the success as they do there.
    """

    def validate(self, attrs):
        data = super().validate(attrs)
        request = self.context.get("request")
        if request is not None:
            user_logged_in.send(
                sender=type(self.user),
                request=getattr(request, "_request", request),
                user=self.user,
            )
        return data


class RefreshSerializer(RejectUnknownFieldsMixin, TokenRefreshSerializer):
    """simplejwt's refresh (rotating, blacklisting the used token), rejecting unknown fields."""

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except User.DoesNotExist:
            # The account was deleted after the token was issued: no account, as for an
            # inactive one (simplejwt looks the user up without expecting it gone).
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None


class LogoutSerializer(StrictSerializer):
    refresh = serializers.CharField()


# --- catalog -----------------------------------------------------------------------------


class MerchantRefSerializer(serializers.Serializer):
    """Who sells a product (read through Product.merchant; shop imports nothing of
    merchants)."""

    id = serializers.IntegerField()
    display_name = serializers.CharField()


class CategorySerializer(serializers.ModelSerializer):
    """A node of the tree; `parent` is the parent's slug (null at the top level)."""

    parent = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "description", "parent", "depth"]
        read_only_fields = fields

    def get_parent(self, category) -> str | None:
        return self.context["parents"].get(category.pk)


class ProductImageSerializer(serializers.ModelSerializer):
    """The original upload; `url` is absolute when the request is known."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["url", "alt", "width", "height"]
        read_only_fields = fields

    def get_url(self, image) -> str:
        request = self.context.get("request")
        url = image.image.url
        return request.build_absolute_uri(url) if request is not None else url


class VariantSerializer(serializers.ModelSerializer):
    """A parent's variant as its product object lists it: what the customer picks and
    what goes in the cart (`id`)."""

    price = serializers.DecimalField(**MONEY, read_only=True)
    available = serializers.IntegerField(source="units_available", read_only=True)
    options = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "price", "currency", "available", "options"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    """A product. `structure` says how it sells: a `standalone` product and a `child`
    (a variant, with its `parent`'s id and its `options`) go in carts by `id`; a `parent`
    does not: it lists its `option_names` and its active `variants`, its `price` is the
    lowest of theirs and its `available` their sum."""

    price = serializers.DecimalField(**MONEY, read_only=True)
    available = serializers.IntegerField(source="units_available", read_only=True)
    images = ProductImageSerializer(many=True, read_only=True)
    option_names = serializers.ListField(child=serializers.CharField(), read_only=True)
    options = serializers.DictField(child=serializers.CharField(), read_only=True)
    variants = serializers.SerializerMethodField()
    merchant = MerchantRefSerializer(
        read_only=True, allow_null=True, help_text="The merchant selling it; null: the shop."
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "price",
            "currency",
            "available",
            "requires_shipping",
            "merchant",
            "images",
            "structure",
            "parent",
            "option_names",
            "options",
            "variants",
        ]
        read_only_fields = fields

    @extend_schema_field(VariantSerializer(many=True))
    def get_variants(self, product) -> list:
        if not product.is_parent:
            return []
        return VariantSerializer(product.variants.all(), many=True).data


class ProductCreateSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    price = serializers.DecimalField(**MONEY, min_value=Decimal("0"))
    initial_stock = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=MAX_STOCK_CHANGE
    )
    requires_shipping = serializers.BooleanField(required=False, default=True)

    def validate_sku(self, value):
        if Product.objects.filter(sku=value).exists():
            raise serializers.ValidationError(
                "A product with this SKU already exists.", code="unique"
            )
        return value


class ProductUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    price = serializers.DecimalField(**MONEY, min_value=Decimal("0"), required=False)
    is_active = serializers.BooleanField(required=False)
    requires_shipping = serializers.BooleanField(required=False)


# --- inventory ---------------------------------------------------------------------------


class InventorySerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = Inventory
        fields = ["product_id", "sku", "available", "reserved"]
        read_only_fields = fields


class AdjustSerializer(StrictSerializer):
    delta = serializers.IntegerField(min_value=-MAX_STOCK_CHANGE, max_value=MAX_STOCK_CHANGE)
    reason = serializers.CharField(max_length=255)

    def validate_delta(self, value):
        if value == 0:
            raise serializers.ValidationError("The delta must not be zero.", code="zero")
        return value


# --- cart --------------------------------------------------------------------------------


class CartItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="product.pk")
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    unit_price = serializers.DecimalField(**MONEY, source="product.price")
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(**MONEY)


class CartSerializer(serializers.Serializer):
    """Serializes shop.cart.CartContents."""

    items = CartItemSerializer(source="lines", many=True)
    subtotal = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()


class CartQuantitySerializer(StrictSerializer):
    # The range check (0..1000) is the cart service's; the serializer only wants a number.
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)


# --- addresses ---------------------------------------------------------------------------


class AddressSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """An address of the user's book. As input (StrictSerializer's rule for unknown
    fields), `country` is an ISO 3166-1 code; it always comes back alpha-2, upper case."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
    }
    country = CountryField()

    class Meta:
        model = Address
        fields = ["id", *FIELDS]
        read_only_fields = ["id"]
