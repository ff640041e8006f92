"""A customer's message that answers their survey: a button's payload, a typed number
while the survey is open, or a comment shortly after the rating. An NPS score given on a
messenger is followed by the question of its main reason, when the settings ask it.

A bare number off the kind's scale ("9" to a 1-7 question) is kept in the thread without
reopening the conversation, and the customer is told, in their language, which numbers
the question takes.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone, translation

from inbox import csat, nps, realtime, survey_kinds
from inbox.models import (
    Conversation,
    CsatSurvey,
    Message,
    MessageDirection,
    MessageStatus,
    SurveyKind,
    SurveyStatus,
)
from inbox.nps_settings import nps_settings_get
from inbox.outgoing_webhooks.emitting import message_event_emit
from inbox.services.delivery import enqueue_delivery

logger = logging.getLogger(__name__)

# A messenger reply within this time after a rating is taken as its comment.
COMMENT_WINDOW = timedelta(minutes=10)
PAYLOAD_PREFIX = "csat:"


def csat_answer_from_message(
    *, conversation: Conversation, text: str, button_payload: str = ""
) -> CsatSurvey | None:
    """If this customer message answers the conversation's survey, record it.

    A button answer carries `csat:<token>:<rating>`; a bare number on the kind's scale
    counts while the survey is open; free text shortly after a rating becomes its comment.
    Returns the survey when the message belongs to it (an answer, its comment, or a number
    off the scale, which gets a hint), else None.
    """
    survey = (
        CsatSurvey.objects.filter(
            conversation=conversation, status__in=(*csat.ANSWERABLE, SurveyStatus.ANSWERED)
        )
        .select_related("conversation__channel")
        .first()
    )
    if survey is None:
        return None
    scale = survey_kinds.scale_of(survey.kind)
    number = _number_in(survey, text=text, button_payload=button_payload)
    try:
        if number is not None and survey.status in csat.ANSWERABLE:
            if scale.contains(number):
                answered = csat.csat_record_answer(survey=survey, rating=number)
                if survey.kind == SurveyKind.NPS and nps_settings_get().follow_up:
                    transaction.on_commit(
                        lambda: survey_follow_up_send(survey_id=survey.pk), robust=True
                    )
                return answered
            if survey.expires_at is None or survey.expires_at > timezone.now():
                transaction.on_commit(
                    lambda: survey_scale_hint_send(survey_id=survey.pk), robust=True
                )
                return survey
            return None
        if (
            survey.status == SurveyStatus.ANSWERED
            and number is None
            and not survey.comment
            and text.strip()
            and survey.answered_at
            and timezone.now() - survey.answered_at < COMMENT_WINDOW
        ):
            return csat.csat_record_answer(survey=survey, rating=None, comment=text)
    except csat.SurveyClosed:
        return None
    return None


def _number_in(survey: CsatSurvey, *, text: str, button_payload: str) -> int | None:
    """The number the message gives, on the scale or not: a button of this survey, or a
    bare number of a digit or two."""
    if button_payload.startswith(PAYLOAD_PREFIX):
        parts = button_payload.split(":")
        if (
            len(parts) == 3
            and parts[1] == survey.token
            and parts[2].isdigit()
            and len(parts[2]) <= survey_kinds.ANSWER_ATTEMPT_DIGITS
        ):
            return int(parts[2])
        return None
    stripped = text.strip()
    if (
        stripped.isascii()
        and stripped.isdigit()
        and len(stripped) <= survey_kinds.ANSWER_ATTEMPT_DIGITS
    ):
        return int(stripped)
    return None


def survey_scale_hint_send(*, survey_id: int) -> Message | None:
    """Tell the customer which numbers their open survey takes, in the survey's language,
    as a message on the conversation's channel (no operator wrote it)."""

    def hint(survey: CsatSurvey) -> str:
        return str(csat.scale_hint(survey_kinds.scale_of(survey.kind)))

    return _survey_message_send(survey_id=survey_id, statuses=csat.ANSWERABLE, compose=hint)


def survey_follow_up_send(*, survey_id: int) -> Message | None:
    """Ask the customer who just gave an NPS score the main reason for it; their next
    message becomes the survey's comment (COMMENT_WINDOW)."""

    def follow_up(survey: CsatSurvey) -> str:
        return nps.nps_follow_up_question(translation.get_language())

    return _survey_message_send(
        survey_id=survey_id, statuses=(SurveyStatus.ANSWERED,), compose=follow_up
    )


def _survey_message_send(
    *, survey_id: int, statuses: tuple[str, ...], compose: Callable[[CsatSurvey], str]
) -> Message | None:
    survey = (
        CsatSurvey.objects.select_related("conversation__channel", "customer")
        .filter(pk=survey_id, status__in=statuses)
        .first()
    )
    if survey is None:
        return None
    conversation = survey.conversation
    language = survey.language or csat.survey_language(
        customer_language=survey.customer.language, channel=conversation.channel
    )
    with translation.override(language):
        body = compose(survey)
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            channel_id=conversation.channel_id,
            direction=MessageDirection.OUTBOUND,
            author=None,
            body=body,
            status=MessageStatus.QUEUED,
        )
        enqueue_delivery(message)
        realtime.message_created(message, channel_id=conversation.channel_id, attachments=[])
        message_event_emit(message, attachments=[])
    logger.info("survey %s: the customer was sent %r", survey.pk, body)
    return message
