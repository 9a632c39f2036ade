"""API clients for permission matrices: who asks, relative to the owner of what is asked for."""

from rest_framework.test import APIClient

from core.tests.helpers import client_for
from shop.tests.factories import StaffFactory, UserFactory

ANON, OWNER, OTHER, STAFF, VIEWER = "anonymous", "owner", "other", "staff", "viewer"

# The model permissions API.md "Staff permissions" names for the API's staff operations.
STAFF_PERMISSIONS = [
    "shop.add_product",
    "shop.change_product",
    "shop.change_inventory",
    "orders.change_order",
    "payments.add_refund",
    "audit.view_auditevent",
]
# What a member of staff who may only look holds: every view permission, no other.
VIEW_PERMISSIONS = [
    "shop.view_product",
    "shop.view_inventory",
    "orders.view_order",
    "payments.view_payment",
    "payments.view_refund",
    "payments.view_webhookevent",
]


def client_as(who, owner) -> APIClient:
    """An API client for `who`: ANON, OWNER (`owner` itself), OTHER (another customer), STAFF
    (holding the staff permissions) or VIEWER (staff who may only view)."""
    return {
        ANON: lambda: APIClient(),
        OWNER: lambda: client_for(owner),
        OTHER: lambda: client_for(UserFactory()),
        STAFF: lambda: client_for(StaffFactory(permissions=STAFF_PERMISSIONS)),
        VIEWER: lambda: client_for(StaffFactory(permissions=VIEW_PERMISSIONS)),
    }[who]()
