"""`make demo`'s follow-ups of low scores and customers at each risk level.

The survey history's low scores (a CES of 3, an NPS of 4) are followed up as the product
does after an answer: the supervisor of the surveyed team gets the reopened conversation.
One is already dealt with, with a note. The detractor then writes again on another
channel two days later, so the profile shows them at risk; the CES customer is at medium
risk, the others low.
"""

from django.utils import timezone

from channels_app.models import Channel
from inbox.follow_ups.models import SurveyFollowUp
from inbox.follow_ups.opening import survey_follow_up_open
from inbox.follow_ups.outcome import follow_up_record_outcome
from inbox.follow_ups.queue import is_poor_answer
from inbox.models import (
    Conversation,
    CsatSurvey,
    Message,
    MessageDirection,
    MessageStatus,
    Role,
    SurveyStatus,
    User,
)
from inbox.services import conversation_resolve
from inbox.services.customer_health import customers_health_refresh

SWITCHED_TO_CHANNEL = "Demo API"


def seed_follow_ups_and_health(*, team, surveyed_channel: Channel) -> None:
    """Runs once, after the survey history."""
    if SurveyFollowUp.objects.exists():
        return
    supervisor = User.objects.filter(username="supervisor", role=Role.SUPERVISOR).first()
    if supervisor is not None:
        team.members.add(supervisor)
    poor = [
        survey
        for survey in CsatSurvey.objects.filter(
            channel=surveyed_channel, status=SurveyStatus.ANSWERED
        ).order_by("answered_at")
        if is_poor_answer(kind=survey.kind, rating=survey.rating)
    ]
    follow_ups = [survey_follow_up_open(survey_id=survey.pk) for survey in poor]
    opened = [follow_up for follow_up in follow_ups if follow_up is not None]
    dealt_with = opened[0] if opened else None
    if dealt_with is not None and dealt_with.conversation is not None and supervisor is not None:
        conversation_resolve(conversation=dealt_with.conversation, resolved_by=supervisor)
        follow_up_record_outcome(
            follow_up=dealt_with,
            note="Called the customer; walked them through merging orders.",
            is_resolved=True,
            actor=supervisor,
        )
    detractor = next((survey for survey in poor if survey.kind == "nps"), None)
    if detractor is not None:
        _write_again_elsewhere(detractor)
    customers_health_refresh(
        customer_ids=Conversation.objects.values_list("customer_id", flat=True).distinct()
    )


def _write_again_elsewhere(survey: CsatSurvey) -> None:
    """The same issue taken to another channel: a channel switch in their health."""
    channel = Channel.objects.filter(name=SWITCHED_TO_CHANNEL).first()
    if channel is None:
        return
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer_id=survey.customer_id,
        channel=channel,
        recipient_address="demo-h-5-web",
        subject="Broken parcel, again",
        last_message_at=now,
        last_inbound_at=now,
    )
    Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=MessageDirection.INBOUND,
        body="I wrote in the app already: the parcel is broken, again. Anyone?",
        status=MessageStatus.RECEIVED,
        external_id="demo-switch-lucas",
    )
