"""Ledger drift: the nightly check (task and command) reports wallets whose ledger breaks
an invariant, to the log and the audit log, and changes nothing."""

import logging
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from shop.tests.factories import UserFactory
from wallets import tasks
from wallets.models import Wallet
from wallets.tests.helpers import fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def drifted():
    """A wallet whose balance was changed behind the ledger's back."""
    wallet = fund(UserFactory(), "10.00")
    Wallet.objects.filter(pk=wallet.pk).update(balance=Decimal("15.00"))
    return wallet


def test_a_sound_ledger_passes_the_command_and_the_task():
    fund(UserFactory(), "10.00")
    out = StringIO()
    call_command("check_wallet_drift", stdout=out)
    assert out.getvalue() == "0 wallet(s) with ledger drift.\n"
    assert tasks.check_wallet_drift.delay().get() == 0
    assert not AuditEvent.objects.filter(action="wallet.drift_detected").exists()


def test_drift_is_logged_audited_and_fails_the_command(drifted, caplog):
    out = StringIO()
    with (
        caplog.at_level(logging.ERROR, logger="wallets.services"),
        pytest.raises(CommandError, match=r"1 wallet\(s\) need a look"),
    ):
        call_command("check_wallet_drift", stdout=out)
    broken = "balance != sum of entries; balance != last entry's balance_after"
    assert out.getvalue() == f"wallet {drifted.pk}: {broken}\n1 wallet(s) with ledger drift.\n"
    assert f"Wallet {drifted.pk} ledger drift" in caplog.text
    event = AuditEvent.objects.get(action="wallet.drift_detected")
    assert (event.entity_type, event.entity_id) == ("wallet", str(drifted.pk))
    assert event.after == {
        "wallet_id": drifted.pk,
        "kind": "customer",
        "balance": "15.00",
        "sum_of_entries": "10.00",
        "entries": 1,
        "broken": ["balance != sum of entries", "balance != last entry's balance_after"],
    }
    assert Wallet.objects.get(pk=drifted.pk).balance == Decimal("15.00")  # nothing corrected
    assert tasks.check_wallet_drift.delay().get() == 1
