"""Reconciliation runs are counted by outcome, by the task and the command alike (issue 14,
item 8)."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from prometheus_client import REGISTRY

from payments import services

pytestmark = pytest.mark.django_db


def runs(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "shop_payment_reconciliation_runs_total", {"outcome": outcome}
    )
    return value or 0.0


def test_runs_are_counted_ok_or_error(monkeypatch):
    before = runs("ok"), runs("error")

    services.reconcile_payments()
    call_command("reconcile_payments", "--older-than", "0")

    def unreachable(*args, **kwargs):
        raise DatabaseError("the database is gone")

    monkeypatch.setattr(services.Payment.objects, "filter", unreachable)
    with pytest.raises(DatabaseError):
        services.reconcile_payments()

    assert (runs("ok") - before[0], runs("error") - before[1]) == (2, 1)
