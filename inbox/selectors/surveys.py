"""Reads of surveys: those of the conversations the user may see (inbox.visibility)."""

from dataclasses import dataclass

from django.db.models import QuerySet

from inbox.follow_ups.models import SurveyFollowUp
from inbox.models import CsatSurvey, User
from inbox.visibility import channel_ids_visible_to

FOLLOW_UP_FIELDS = tuple(
    f"follow_up__{name}"
    for name in (
        "id", "survey_id", "action", "status", "conversation_id", "assignee_id", "team_id",
        "resolved_by_id", "resolved_at", "note", "created_at",
    )
)  # fmt: skip


@dataclass(frozen=True)
class SurveyFilters:
    kind: str | None = None
    status: str | None = None
    customer: int | None = None
    conversation: int | None = None


def surveys_for_user(*, user: User, filters: SurveyFilters) -> QuerySet[CsatSurvey]:
    """Surveys of every kind, in the channels the user's conversations are in; one query
    for a page, whatever its length."""
    surveys = CsatSurvey.objects.all()
    channel_ids = channel_ids_visible_to(user)
    if channel_ids is not None:
        surveys = surveys.filter(channel_id__in=channel_ids)
    if filters.kind:
        surveys = surveys.filter(kind=filters.kind)
    if filters.status:
        surveys = surveys.filter(status=filters.status)
    if filters.customer is not None:
        surveys = surveys.filter(customer_id=filters.customer)
    if filters.conversation is not None:
        surveys = surveys.filter(conversation_id=filters.conversation)
    # A follow-up is read with its survey (a left join), so a page stays one query.
    return surveys.select_related("follow_up").only(
        "id", "kind", "status", "rating", "comment", "conversation_id", "customer_id",
        "operator_id", "channel_id", "sent_at", "answered_at", *FOLLOW_UP_FIELDS,
    )  # fmt: skip


def survey_follow_ups_for_user(*, user: User) -> QuerySet[SurveyFollowUp]:
    """The follow-ups of the surveys the user may see."""
    visible = surveys_for_user(user=user, filters=SurveyFilters())
    return SurveyFollowUp.objects.filter(survey__in=visible.values("pk"))
