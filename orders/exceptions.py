"""Errors of checkout and the order state machine (on core.exceptions.ShopError)."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ShopError


class IdempotencyConflict(ShopError):
    code = "idempotency_conflict"
    default_detail = _("This idempotency key was already used for a different request.")


class InvalidTransition(ShopError):
    code = "invalid_transition"
    default_detail = _("The order cannot make this change in its current state.")


class InvalidShipment(ShopError):
    code = "invalid_shipment"
    default_detail = _("The shipment's carrier or tracking number is not valid.")
