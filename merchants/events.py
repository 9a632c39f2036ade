"""What happens to merchants, published for the apps above (core.events)."""

from dataclasses import dataclass

from core.events import Event
from merchants.models import Merchant


@dataclass(frozen=True)
class MerchantApproved(Event):
    """Staff approved a merchant; published inside the approval's transaction. Wallets
    subscribes immediately: the merchant's wallet becomes a merchant wallet (one that
    earnings can be reversed below zero) in the same transaction."""

    merchant: Merchant
