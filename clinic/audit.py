"""Audit entries for writes that bypass model signals (conditional updates settle races)."""

from auditlog.models import LogEntry


def audit_change(instance, changes: dict[str, tuple]) -> None:
    """Record an update of `instance` as the audit log's signal handlers would: who and from
    where come from the request's audit context; `changes` maps field -> (old, new)."""
    LogEntry.objects.log_create(
        instance,
        force_log=True,
        action=LogEntry.Action.UPDATE,
        changes={field: [str(old), str(new)] for field, (old, new) in changes.items()},
    )
