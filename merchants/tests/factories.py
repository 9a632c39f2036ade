"""Merchants for tests, made through the real services (merchants sits below shop, so
users come from core.tests.helpers.make_user)."""

import itertools

from core.tests.helpers import make_user
from merchants import services
from merchants.models import Merchant

_numbers = itertools.count(1)


def make_merchant(*, user=None, approved: bool = True, display_name: str = "") -> Merchant:
    """A merchant (approved by a superuser unless `approved` is False) for `user`, or for
    a new user."""
    user = user if user is not None else make_user()
    merchant = services.apply_for_merchant(
        user=user, display_name=display_name or f"Merchant {next(_numbers)}"
    )
    if approved:
        staff = make_user(is_staff=True, is_superuser=True)
        merchant = services.approve_merchant(merchant=merchant, actor=staff)
    return merchant
