"""A customer's message that answers their survey: a button's payload, a typed number
while the survey is open, or a comment shortly after the rating.

A bare number off the kind's scale ("9" to a 1-7 question) is kept in the thread without
reopening the conversation, and the customer is told, in their language, which numbers
the question takes.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone, translation

from inbox import csat, realtime, survey_kinds
from inbox.models import (
    Conversation,
    CsatSurvey,
    Message,
    MessageDirection,
    MessageStatus,
    SurveyStatus,
)
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
                return csat.csat_record_answer(survey=survey, rating=number)
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
    """Tell the customer which numbers their survey takes, in the survey's language, as a
    message on the conversation's channel (no operator wrote it)."""
    survey = (
        CsatSurvey.objects.select_related("conversation__channel", "customer")
        .filter(pk=survey_id, status__in=csat.ANSWERABLE)
        .first()
    )
    if survey is None:
        return None
    conversation = survey.conversation
    language = survey.language or csat.survey_language(
        customer_language=survey.customer.language, channel=conversation.channel
    )
    with translation.override(language):
        body = str(csat.scale_hint(survey_kinds.scale_of(survey.kind)))
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
    logger.info("survey %s: answered off its scale; the customer was told", survey.pk)
    return message
