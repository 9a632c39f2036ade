"""The accounts' Celery task: flushing expired JWTs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from shop import tasks
from shop.tests.celery import run_task
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def token(user, jti, expires_in):
    now = timezone.now()
    return OutstandingToken.objects.create(
        user=user, jti=jti, token=f"token-{jti}", created_at=now, expires_at=now + expires_in
    )


def test_flush_expired_tokens_deletes_only_expired_tokens_and_their_blacklist_entries():
    user = UserFactory()
    expired = token(user, "old", timedelta(days=-1))
    BlacklistedToken.objects.create(token=expired)
    live = token(user, "live", timedelta(days=1))

    run_task(tasks.flush_expired_tokens)

    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live.jti]
    assert not BlacklistedToken.objects.exists()
