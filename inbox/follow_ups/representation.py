"""A follow-up's public shape: the API's `survey.follow_up` and the live event's."""

from typing import Any

from inbox.follow_ups.models import SurveyFollowUp


def follow_up_representation(follow_up: SurveyFollowUp) -> dict[str, Any]:
    return {
        "id": follow_up.pk,
        "survey": follow_up.survey_id,
        "action": follow_up.action,
        "status": follow_up.status,
        "conversation": follow_up.conversation_id,
        "assignee": follow_up.assignee_id,
        "team": follow_up.team_id,
        "resolved_by": follow_up.resolved_by_id,
        "resolved_at": follow_up.resolved_at.isoformat() if follow_up.resolved_at else None,
        "note": follow_up.note,
        "created_at": follow_up.created_at.isoformat() if follow_up.created_at else None,
    }
