"""How many surveys of a report's period did not reach their customers, and why: skipped
(the messaging window closed with no template to send, the customer surveyed recently,
unreachable, ...) or failed (the platform refused), counted per reason code.

A report that shows only the surveys sent hides who was never asked (a WhatsApp customer
who wrote two days before the resolve, say); these counts make that gap visible. Surveys
that did not go out have no send time: they count in the period they were due.
"""

from typing import Any

from django.db.models import Count
from django.utils.translation import gettext, ngettext

from inbox.models import CsatSurvey, SurveyReason, SurveyStatus
from inbox.reports import ReportFilters, in_scope

NOT_SENT = (SurveyStatus.SKIPPED, SurveyStatus.FAILED)


def surveys_not_sent(*, filters: ReportFilters, kind: str, surveys_sent: int) -> dict[str, Any]:
    """`{"skipped", "failed", "reasons": [{"status", "reason", "name", "count"}],
    "summary"}` for the surveys of `kind` due in the period; one query."""
    rows = (
        in_scope(
            CsatSurvey.objects.filter(
                kind=kind,
                status__in=NOT_SENT,
                due_at__gte=filters.start,
                due_at__lt=filters.end,
            ),
            filters,
        )
        .values_list("status", "reason_code")
        .annotate(count=Count("*"))
        .order_by()
    )
    reasons = [
        {
            "status": status,
            "reason": code or SurveyReason.OTHER.value,
            "name": str(SurveyReason(code or SurveyReason.OTHER).label),
            "count": count,
        }
        for status, code, count in rows
    ]
    reasons.sort(key=lambda row: (row["status"] != SurveyStatus.SKIPPED, -row["count"]))
    skipped = sum(row["count"] for row in reasons if row["status"] == SurveyStatus.SKIPPED)
    failed = sum(row["count"] for row in reasons if row["status"] == SurveyStatus.FAILED)
    return {
        "skipped": skipped,
        "failed": failed,
        "reasons": reasons,
        "summary": reach_summary(surveys_sent=surveys_sent, reasons=reasons),
    }


def reach_summary(*, surveys_sent: int, reasons: list[dict[str, Any]]) -> str:
    """ "120 surveys sent; 14 skipped: window closed 9, unreachable 5", in the active
    language."""
    parts = [
        ngettext("%(count)s survey sent", "%(count)s surveys sent", surveys_sent)
        % {"count": surveys_sent}
    ]
    for status, counted in (
        (SurveyStatus.SKIPPED, lambda n: ngettext("%(count)s skipped", "%(count)s skipped", n)),
        (SurveyStatus.FAILED, lambda n: ngettext("%(count)s failed", "%(count)s failed", n)),
    ):
        of_status = [row for row in reasons if row["status"] == status]
        total = sum(row["count"] for row in of_status)
        if not total:
            continue
        each = ", ".join(
            gettext("%(reason)s %(count)s") % {"reason": row["name"], "count": row["count"]}
            for row in of_status
        )
        parts.append(f"{counted(total) % {'count': total}}: {each}")
    return "; ".join(parts)
