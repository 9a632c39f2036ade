"""Errors of wallets, deposits and withdrawals (on core.exceptions.ShopError)."""

from core.exceptions import ShopError


class InsufficientFunds(ShopError):
    code = "insufficient_funds"
    default_detail = "The wallet balance is too low for this."


class WalletLocked(ShopError):
    code = "wallet_locked"
    default_detail = "This wallet is locked. Please contact us."


class InvalidAmount(ShopError):
    code = "invalid_amount"
    default_detail = "This amount is not possible."


class InvalidDeposit(ShopError):
    code = "invalid_deposit"
    default_detail = "This deposit is not possible."
