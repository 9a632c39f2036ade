"""Read queries over merchants."""

from merchants.models import Merchant


def merchant_of(*, user) -> Merchant | None:
    """The user's merchant profile (pending or approved), or None."""
    if not user.is_authenticated:
        return None
    return Merchant.objects.filter(user=user).first()


def approved_merchant_of(*, user) -> Merchant | None:
    """The user's merchant profile if staff approved it, else None."""
    merchant = merchant_of(user=user)
    return merchant if merchant is not None and merchant.is_approved else None
