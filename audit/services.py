"""Writing the audit log. Call these inside the transaction that makes the change."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from audit.context import request_id
from audit.models import AuditEvent


@dataclass(frozen=True)
class Change:
    """One change to record: what happened to which entity, and its state before and after."""

    action: str
    entity_type: str
    entity_id: Any
    before: dict | None = None
    after: dict | None = None


def record(
    *,
    action: str,
    entity_type: str,
    entity_id: Any,
    actor=None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Record a single change made by `actor` (None for the system)."""
    (event,) = record_many(
        changes=[Change(action, entity_type, entity_id, before, after)], actor=actor
    )
    return event


def record_many(*, changes: Iterable[Change], actor=None) -> list[AuditEvent]:
    """Record several changes with one INSERT (checkout writes one per stock row)."""
    rid = request_id.get()
    actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                action=c.action,
                entity_type=c.entity_type,
                entity_id=str(c.entity_id),
                before=c.before,
                after=c.after,
                request_id=rid,
            )
            for c in changes
        ]
    )
