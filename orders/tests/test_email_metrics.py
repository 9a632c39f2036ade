"""Order email sends are counted by kind and outcome where they happen, the worker in
production (issue 14, item 8)."""

import smtplib

import pytest
from prometheus_client import REGISTRY

from orders import emails
from orders.tests.factories import make_order

pytestmark = pytest.mark.django_db


def sends(outcome: str) -> float:
    labels = {"kind": "placed", "outcome": outcome}
    return REGISTRY.get_sample_value("shop_order_emails_total", labels) or 0.0


def test_sent_skipped_and_failed_sends_are_counted(monkeypatch):
    sent_order, failing_order = make_order(), make_order()  # a `placed` email each
    before = {outcome: sends(outcome) for outcome in ("sent", "skipped", "failed")}

    assert emails.send_order_email(order_id=sent_order.pk, kind="placed") is True
    assert emails.send_order_email(order_id=sent_order.pk, kind="placed") is False

    def refused(**kwargs):
        raise smtplib.SMTPServerDisconnected("the server went away")

    monkeypatch.setattr(emails, "build_message", refused)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        emails.send_order_email(order_id=failing_order.pk, kind="placed")

    after = {outcome: sends(outcome) for outcome in ("sent", "skipped", "failed")}
    assert {k: after[k] - before[k] for k in after} == {"sent": 1, "skipped": 1, "failed": 1}
