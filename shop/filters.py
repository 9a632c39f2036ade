"""The catalog's search, filters and sort orders (django-filter), one definition for
`GET products` (`ProductFilter`) and the catalog page (`CatalogFilter`).

Each parameter accepts exactly what the OpenAPI schema says (schemathesis checks both
ways): a price is digits with at most two decimals, `in_stock` is `true` or `false`, the
sort order one of its names; anything else is a 400 in the API and a field error on the
page. An empty price or sort order means "none", as a submitted empty form field does.
"""

import re
from decimal import Decimal

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from shop.models import Product
from shop.search import search_products

SEARCH_MAX_LENGTH = 100
PRICE = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?")  # Product.price: 12 digits, 2 decimals

# The sort orders by name; id breaks ties, so pages never repeat or skip a product. Each
# has its index (Product.Meta.indexes). No sort order: the best match first when searching
# (shop.search), else by name.
SORT_ORDERS = {
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
    "name": ("name", "id"),
    "newest": ("-created_at", "-id"),
}
SORT_CHOICES = [
    ("price", _("Price, low to high")),
    ("-price", _("Price, high to low")),
    ("name", _("Name")),
    ("newest", _("Newest first")),
]


class PriceField(forms.DecimalField):
    """A price as typed: digits, optionally a point and one or two decimals. Stricter than
    DecimalField, which would also take "1e3", " 5" or "٣"."""

    default_error_messages = {"invalid": _("Enter an amount such as 12 or 12.50.")}
    widget = forms.NumberInput(attrs={"min": 0, "step": "0.01", "inputmode": "decimal"})

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not PRICE.fullmatch(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return Decimal(value)


class TrueFalseField(forms.Field):
    """`true` or `false`, as a checkbox with value "true" sends it; anything else, empty
    included, is an error rather than quietly "not given"."""

    default_error_messages = {"invalid": _("Enter true or false.")}

    def to_python(self, value):
        if value is None:
            return None
        if value not in ("true", "false"):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return value == "true"


class PriceFilter(django_filters.Filter):
    field_class = PriceField


class TrueFalseFilter(django_filters.Filter):
    field_class = TrueFalseField


def _price_filter(lookup: str, label, description: str) -> PriceFilter:
    schema = {"type": "string", "pattern": f"^({PRICE.pattern})?$", "description": description}
    return extend_schema_field(schema)(
        PriceFilter(field_name="price", lookup_expr=lookup, label=label)
    )


def _search_filter() -> django_filters.CharFilter:
    return django_filters.CharFilter(
        method="filter_search", max_length=SEARCH_MAX_LENGTH, label=_("Search products")
    )


# The parameters as the OpenAPI schema documents them (drf-spectacular reads these).
SEARCH_SCHEMA = {
    "type": "string",
    "maxLength": SEARCH_MAX_LENGTH,
    "description": "Words of the name, SKU or description (stemmed: `mugs` finds a mug), "
    "a name spelled nearly right (`mugg`), or part of the name or SKU (`MUG-0`); a "
    "variant's SKU or option values find its parent (`TEE-M-RED`, `navy`); `-word` "
    "leaves out what holds the word "
    "(`mug -blue`); the best "
    "match first unless `ordering` says otherwise.",
}
IN_STOCK_SCHEMA = {"type": "boolean", "description": "`true`: only products available now."}
ORDERING_SCHEMA = {
    "type": "string",
    "enum": ["", *SORT_ORDERS],
    "description": "`price` (lowest first), `-price` (highest first), `name`, `newest`; "
    "empty or absent: the best match first when searching, else by name.",
}


class ProductFilter(django_filters.FilterSet):
    search = extend_schema_field(SEARCH_SCHEMA)(_search_filter())
    min_price = _price_filter("gte", _("Lowest price"), "Only products at this price or more.")
    max_price = _price_filter("lte", _("Highest price"), "Only products at this price or less.")
    in_stock = extend_schema_field(IN_STOCK_SCHEMA)(
        TrueFalseFilter(method="filter_in_stock", label=_("In stock only"))
    )
    ordering = extend_schema_field(ORDERING_SCHEMA)(
        django_filters.ChoiceFilter(
            choices=SORT_CHOICES,
            method="filter_nothing",
            empty_label=_("Best match"),
            label=_("Sort by"),
        )
    )

    def filter_search(self, products: QuerySet, name: str, value: str) -> QuerySet:
        return search_products(products, query=value)

    def filter_in_stock(self, products: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return products
        # A parent has no stock of its own: it is in stock while any active variant is.
        variant_in_stock = Exists(
            Product.objects.filter(
                parent=OuterRef("pk"), is_active=True, inventory__available__gt=0
            )
        )
        return products.filter(Q(inventory__available__gt=0) | variant_in_stock)

    def filter_nothing(self, products: QuerySet, name: str, value: str) -> QuerySet:
        return products  # the sort order comes last, in filter_queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        products = super().filter_queryset(queryset)
        ordering = self.form.cleaned_data.get("ordering")
        return products.order_by(*SORT_ORDERS[ordering]) if ordering else products

    @property
    def narrows(self) -> bool:
        """Whether a price bound or "in stock only" is in force (the page offers to clear
        them and says when they leave nothing)."""
        cleaned = getattr(self.form, "cleaned_data", {})
        prices = (cleaned.get("min_price"), cleaned.get("max_price"))
        return any(price is not None for price in prices) or bool(cleaned.get("in_stock"))


class CatalogFilter(ProductFilter):
    """The catalog page's form: the same, with the search in `q` as the page always had."""

    search = None
    q = _search_filter()
