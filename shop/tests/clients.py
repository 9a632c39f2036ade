"""API clients for permission matrices: who asks, relative to the owner of what is asked for."""

from rest_framework.test import APIClient

from core.tests.helpers import client_for
from shop.tests.factories import StaffFactory, UserFactory

ANON, OWNER, OTHER, STAFF = "anonymous", "owner", "other", "staff"


def client_as(who, owner) -> APIClient:
    """An API client for `who`: ANON, OWNER (`owner` itself), OTHER (another customer), STAFF."""
    return {
        ANON: lambda: APIClient(),
        OWNER: lambda: client_for(owner),
        OTHER: lambda: client_for(UserFactory()),
        STAFF: lambda: client_for(StaffFactory()),
    }[who]()
