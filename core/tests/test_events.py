"""core.events: when subscribers run, and what a rollback or an error does."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from core import events


@dataclass(frozen=True)
class Happened(events.Event):
    what: str


def _collect(event_type, *, immediately=False) -> list:
    seen = []

    def handler(event):
        seen.append((event.what, transaction.get_connection().in_atomic_block))

    events.subscribe(event_type, handler, immediately=immediately)
    return seen


@pytest.mark.django_db(transaction=True)
def test_a_subscriber_runs_after_the_commit_outside_the_transaction():
    @dataclass(frozen=True)
    class Committed(Happened):
        pass

    seen = _collect(Committed)
    with transaction.atomic():
        events.publish(Committed(what="placed"))
        assert seen == []
    assert seen == [("placed", False)]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_never_reaches_after_commit_subscribers():
    @dataclass(frozen=True)
    class RolledBack(Happened):
        pass

    seen = _collect(RolledBack)
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish(RolledBack(what="placed"))
        raise RuntimeError("the change fails after publishing")
    assert seen == []


@pytest.mark.django_db(transaction=True)
def test_without_a_transaction_after_commit_subscribers_run_at_once():
    @dataclass(frozen=True)
    class Outside(Happened):
        pass

    seen = _collect(Outside)
    events.publish(Outside(what="now"))
    assert seen == [("now", False)]


@pytest.mark.django_db(transaction=True)
def test_an_immediate_subscriber_runs_inside_and_its_error_undoes_the_change():
    @dataclass(frozen=True)
    class Inside(Happened):
        pass

    seen = _collect(Inside, immediately=True)

    def refuse(event):
        Group.objects.create(name="written by the subscriber")
        raise ValueError("the subscriber refuses")

    events.subscribe(Inside, refuse, immediately=True)
    with pytest.raises(ValueError, match="refuses"), transaction.atomic():
        Group.objects.create(name="the change")
        events.publish(Inside(what="paid"))
    assert seen == [("paid", True)]
    assert not Group.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_subscribing_twice_delivers_once():
    @dataclass(frozen=True)
    class Twice(Happened):
        pass

    seen = []
    events.subscribe(Twice, seen.append)
    events.subscribe(Twice, seen.append)
    events.publish(Twice(what="once"))
    assert seen == [Twice(what="once")]
