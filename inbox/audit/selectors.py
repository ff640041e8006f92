"""Reading the audit log."""

from datetime import datetime

from django.db.models import QuerySet

from inbox.audit.models import AuditRecord


def audit_records_filtered(
    *,
    action: str | None = None,
    actor: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditRecord]:
    """Newest first (the pagination orders by id); `until` is exclusive."""
    records = AuditRecord.objects.all()
    if action:
        records = records.filter(action=action)
    if actor is not None:
        records = records.filter(actor_id=actor)
    if since is not None:
        records = records.filter(created_at__gte=since)
    if until is not None:
        records = records.filter(created_at__lt=until)
    return records
