"""Errors of wallets, deposits and withdrawals (on core.exceptions.ShopError)."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ShopError


class InsufficientFunds(ShopError):
    code = "insufficient_funds"
    default_detail = _("The wallet balance is too low for this.")


class WalletLocked(ShopError):
    code = "wallet_locked"
    default_detail = _("This wallet is locked. Please contact us.")


class InvalidAmount(ShopError):
    code = "invalid_amount"
    default_detail = _("This amount is not possible.")


class InvalidDeposit(ShopError):
    code = "invalid_deposit"
    default_detail = _("This deposit is not possible.")
