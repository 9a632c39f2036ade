"""Errors of merchant applications (on core.exceptions.ShopError)."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ShopError


class AlreadyApplied(ShopError):
    code = "already_applied"
    default_detail = _("You have already applied to sell in the shop.")


class InvalidMerchant(ShopError):
    code = "invalid_merchant"
    default_detail = _("This merchant application is not valid.")


class NotAMerchant(ShopError):
    code = "not_a_merchant"
    default_detail = _("Only approved merchants can do this.")
