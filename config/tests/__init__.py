"""Helpers shared by the API tests."""

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken


def client_for(user=None) -> APIClient:
    """An API client authenticated as `user` with a fresh JWT access token (None: anonymous)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def api(path: str) -> str:
    return f"/api/v1/{path}"
