"""Opening the follow-up of a poor answer, once per survey.

The survey's row is locked and its follow-up looked for first, and the follow-up's survey
is unique: a task run twice, or an answer processed twice, opens one follow-up. The
follow-up either reopens the surveyed conversation or opens a new conversation for the
customer on the same channel, starting with a private note that says what the customer
answered (no message reaches the customer); either is given to the surveyed team's
supervisor, or to the team the settings name.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from inbox import realtime, survey_kinds
from inbox.follow_ups.models import (
    FollowUpAction,
    FollowUpAssignment,
    FollowUpSettings,
    SurveyFollowUp,
)
from inbox.follow_ups.queue import is_poor_answer
from inbox.follow_ups.representation import follow_up_representation
from inbox.follow_ups.settings import follow_up_settings_get
from inbox.models import (
    Conversation,
    ConversationStatus,
    CsatSurvey,
    Message,
    MessageDirection,
    MessageStatus,
    Role,
    SurveyStatus,
    Team,
    User,
)
from inbox.services.assignment import conversation_assign
from inbox.services.conversation_actions import ConversationActionInvalid, conversation_reopen

logger = logging.getLogger(__name__)


def survey_follow_up_open(*, survey_id: int) -> SurveyFollowUp | None:
    """Open the follow-up of a poorly answered survey; None when the survey is gone, not
    poor, already followed up, or follow-ups are off."""
    with transaction.atomic():
        survey = (
            CsatSurvey.objects.select_for_update(of=("self",))
            .select_related("conversation__channel", "team")
            .filter(pk=survey_id, status=SurveyStatus.ANSWERED)
            .first()
        )
        if survey is None or not is_poor_answer(kind=survey.kind, rating=survey.rating):
            return None
        if SurveyFollowUp.objects.filter(survey=survey).exists():
            return None
        options = follow_up_settings_get()
        if not options.enabled:
            return None
        if options.action == FollowUpAction.NEW_CONVERSATION:
            conversation = _conversation_open_for(survey)
        else:
            conversation = survey.conversation
            if conversation.status != ConversationStatus.OPEN:
                conversation_reopen(conversation=conversation)
        _private_note_add(conversation, survey)
        assignee, team = _owner(survey, options)
        assignee, team = _assign(conversation, assignee=assignee, team=team)
        follow_up = SurveyFollowUp.objects.create(
            survey=survey,
            action=options.action,
            conversation=conversation,
            assignee=assignee,
            team=team,
        )
        realtime.survey_follow_up_changed(
            follow_up_representation(follow_up), channel_id=conversation.channel_id
        )
    logger.info("survey %s: follow-up %s opened", survey_id, follow_up.pk)
    return follow_up


def _conversation_open_for(survey: CsatSurvey) -> Conversation:
    surveyed = survey.conversation
    now = timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        subject = translation.gettext("Follow-up: %(kind)s %(rating)s") % {
            "kind": survey.kind.upper(),
            "rating": survey.rating,
        }
    conversation = Conversation.objects.create(
        customer_id=survey.customer_id,
        channel_id=surveyed.channel_id,
        recipient_address=surveyed.recipient_address,
        subject=subject,
        team_id=surveyed.team_id,
        last_message_at=now,
    )
    realtime.conversation_changed(conversation, is_new=True, labels=[])
    return conversation


def _private_note_add(conversation: Conversation, survey: CsatSurvey) -> Message:
    scale = survey_kinds.scale_of(survey.kind)
    # Stored once for every reader, so in the installation's language.
    with translation.override(settings.LANGUAGE_CODE):
        body = translation.gettext(
            "Low score to follow up: %(kind)s %(rating)s on a scale of %(lowest)s to "
            "%(highest)s (conversation %(conversation)s)."
        ) % {
            "kind": survey.kind.upper(),
            "rating": survey.rating,
            "lowest": scale.lowest,
            "highest": scale.highest,
            "conversation": survey.conversation_id,
        }
        if survey.comment:
            body += " " + translation.gettext("Comment: %(comment)s") % {"comment": survey.comment}
    message = Message.objects.create(
        conversation=conversation,
        channel_id=conversation.channel_id,
        direction=MessageDirection.OUTBOUND,
        author=None,
        body=body,
        is_private=True,
        status=MessageStatus.INTERNAL,
    )
    realtime.message_created(message, channel_id=conversation.channel_id, attachments=[])
    return message


def _owner(survey: CsatSurvey, options: FollowUpSettings) -> tuple[User | None, Team | None]:
    """Who gets the follow-up: the chosen team, or a supervisor of the team the survey
    was frozen with (the first by id), else of the conversation's team now."""
    if options.assign_to == FollowUpAssignment.TEAM and options.team is not None:
        return None, options.team
    team = survey.team or survey.conversation.team
    if team is None:
        return None, None
    supervisor = team.members.filter(is_active=True, role=Role.SUPERVISOR).order_by("pk").first()
    return supervisor, team


def _assign(
    conversation: Conversation, *, assignee: User | None, team: Team | None
) -> tuple[User | None, Team | None]:
    """Give the conversation to them; a team that does not serve its channel leaves it
    where it is (the follow-up still opens, unassigned, and says so in the log)."""
    if assignee is None and team is None:
        return None, None
    try:
        if team is not None and team.pk != conversation.team_id:
            conversation_assign(conversation=conversation, team=team)
        if assignee is not None:
            conversation_assign(conversation=conversation, operator=assignee)
    except ConversationActionInvalid as error:
        logger.warning("follow-up in conversation %s left unassigned: %s", conversation.pk, error)
        return None, None
    return assignee, team
