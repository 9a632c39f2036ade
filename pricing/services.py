"""Staff's pricing changes: new shipping methods, tax rates and coupons (the API; the
admin edits the same rows through model validation). Coupon uses are pricing.coupons'."""

from django.db import IntegrityError, transaction

from pricing.models import Coupon, ShippingMethod, TaxRate


def create_shipping_method(**fields) -> ShippingMethod:
    """Raises ValidationError on invalid fields or a code already taken."""
    return _create(ShippingMethod(**fields))


def create_tax_rate(**fields) -> TaxRate:
    """Raises ValidationError on invalid fields or a (country, region) already rated."""
    return _create(TaxRate(**fields))


def create_coupon(**fields) -> Coupon:
    """Raises ValidationError on invalid fields (a percentage above 100, an end before
    the start) or a code already taken in any letter case."""
    return _create(Coupon(**fields))


def _create(obj):
    obj.full_clean()
    try:
        with transaction.atomic():
            obj.save(force_insert=True)
    except IntegrityError:  # the same code, created a moment ago
        obj.full_clean()  # now names the taken value as a ValidationError
        raise
    return obj
