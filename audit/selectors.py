"""Read queries over the audit log."""

from collections.abc import Iterable

from django.db.models import QuerySet

from audit.actions import Action, Entity
from audit.models import AuditEvent


def audit_events(
    *, entity_type: str = "", entity_id: str = "", action: str = ""
) -> QuerySet[AuditEvent]:
    """The log, newest first, with each actor; the filters given narrow it (staff's API)."""
    events = AuditEvent.objects.select_related("actor").order_by("-occurred_at", "-id")
    filters = {"entity_type": entity_type, "entity_id": entity_id, "action": action}
    return events.filter(**{field: value for field, value in filters.items() if value})


def history_of(
    *, entity_type: Entity, entity_id, actions: Iterable[Action]
) -> QuerySet[AuditEvent]:
    """The events of one entity among `actions`, oldest first."""
    return AuditEvent.objects.filter(
        entity_type=entity_type, entity_id=str(entity_id), action__in=list(actions)
    ).order_by("occurred_at", "id")
