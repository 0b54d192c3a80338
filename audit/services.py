"""Recording audit entries. Callers pass already-masked changes (see `diff`)."""

from __future__ import annotations

from typing import Any

from .models import AuditEntry

SECRET_CHANGED = "(changed)"


def diff(before: dict[str, Any], after: dict[str, Any], secret_fields: set[str]) -> dict:
    """Fields whose value differs, as {field: [old, new]}; secret fields never show a value."""
    changes = {}
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        if field in secret_fields:
            changes[field] = [None, SECRET_CHANGED]
        else:
            changes[field] = [old, new]
    return changes


def record(actor, action: str, obj, changes: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor and actor.is_authenticated else None,
        actor_name=getattr(actor, "username", "") or "system",
        action=action,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        changes=changes or {},
    )
