"""The customer health section of the profile pane: the selector's signals, worded."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers.models import HealthRisk
from inbox import survey_kinds
from inbox.selectors.customer_health import SURVEY_KINDS, CustomerHealth

REASON_LABELS = {
    "poor_csat": _("Low last CSAT"),
    "poor_ces": _("Hard last contact (CES)"),
    "poor_nps": _("Detractor (NPS)"),
    "frequent_contacts": _("Frequent contacts"),
    "reopened_conversations": _("Reopened conversations"),
    "channel_switches": _("Switched channels for the same issue"),
    "unanswered": _("Waiting for a reply"),
}
RISK_LABELS = {
    HealthRisk.LOW: _("Low risk"),
    HealthRisk.MEDIUM: _("Medium risk"),
    HealthRisk.HIGH: _("At risk"),
}


def waiting_time_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours = seconds // 3600
    if hours >= 48:
        days = hours // 24
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    if hours >= 1:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    minutes = seconds // 60
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def health_pane_context(health: CustomerHealth) -> dict[str, Any]:
    scores = []
    for kind in SURVEY_KINDS:
        score = health.latest_scores.get(kind)
        scale = survey_kinds.scale_of(kind)
        scores.append(
            {
                "kind": kind.upper(),
                "rating": None if score is None else score.rating,
                "highest": scale.highest,
                "is_poor": score is not None and score.rating <= scale.poor_up_to,
            }
        )
    return {
        "risk": health.risk,
        "risk_label": RISK_LABELS[HealthRisk(health.risk)],
        "reasons": [REASON_LABELS[reason] for reason in health.reasons],
        "scores": scores,
        "contacts_30_days": health.contacts_30_days,
        "contacts_90_days": health.contacts_90_days,
        "reopened_conversations": health.reopened_conversations,
        "channel_switches": health.channel_switches,
        "waiting": waiting_time_text(health.unanswered_seconds),
    }
