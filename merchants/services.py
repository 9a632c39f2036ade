"""Merchant applications: a user applies, staff approve. Both audited."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import Action, Entity
from audit.services import record
from core import events
from core.exceptions import NotPermitted
from merchants.events import MerchantApproved
from merchants.exceptions import AlreadyApplied, InvalidMerchant
from merchants.models import Merchant

DISPLAY_NAME_MAX = Merchant._meta.get_field("display_name").max_length


def apply_for_merchant(*, user, display_name: str) -> Merchant:
    """The user asks to sell in the shop under `display_name`: a pending merchant.

    Raises InvalidMerchant for an empty or too long name, AlreadyApplied when the user
    applied before (also when a concurrent application won the race).
    """
    display_name = (display_name or "").strip()
    if not 1 <= len(display_name) <= DISPLAY_NAME_MAX:
        raise InvalidMerchant(
            _("The display name must be 1 to %(max)d characters.") % {"max": DISPLAY_NAME_MAX}
        )
    try:
        with transaction.atomic():
            merchant = Merchant.objects.create(user=user, display_name=display_name)
            record(
                action=Action.MERCHANT_APPLIED,
                entity_type=Entity.MERCHANT,
                entity_id=merchant.pk,
                actor=user,
                after={"display_name": display_name, "status": merchant.status},
            )
    except IntegrityError:  # the user's one-to-one: applied before
        raise AlreadyApplied() from None
    return merchant


def approve_merchant(*, merchant: Merchant, actor) -> Merchant:
    """Staff holding `merchants.change_merchant` approve a merchant: from now on they
    manage their own products and earn from their sales. Approving an approved merchant
    changes nothing. Publishes MerchantApproved in the transaction (their wallet becomes
    a merchant wallet). Raises NotPermitted."""
    if not (actor.is_staff and actor.has_perm("merchants.change_merchant")):
        raise NotPermitted()
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
        if merchant.is_approved:
            return merchant
        merchant.status = Merchant.Status.APPROVED
        merchant.approved_by = actor
        merchant.approved_at = timezone.now()
        merchant.save()
        record(
            action=Action.MERCHANT_APPROVED,
            entity_type=Entity.MERCHANT,
            entity_id=merchant.pk,
            actor=actor,
            before={"status": Merchant.Status.PENDING},
            after={"status": merchant.status},
        )
        events.publish(MerchantApproved(merchant=merchant))
    return merchant
