"""CSAT surveys: scheduled on resolve, sent once by a worker, answered on any channel.

The state lives in CsatSurvey rows. Beat sweeps due surveys (a due time in the
database, not a long countdown) and moves each through guarded transitions, so a
task that runs twice, is retried, or is redelivered after its worker died never
sends a second survey.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from customers.models import Identity, IdentityKind
from inbox import realtime
from inbox.models import (
    Conversation,
    ConversationStatus,
    CsatSurvey,
    Message,
    MessageDirection,
    SurveyStatus,
)

logger = logging.getLogger(__name__)

RATINGS = (1, 2, 3, 4, 5)
RATING_LABELS = {1: "Very poor", 2: "Poor", 3: "Average", 4: "Good", 5: "Excellent"}
LOW_RATING = 2
# A messenger reply within this time after a rating is taken as its comment.
COMMENT_WINDOW = timedelta(minutes=10)


class SurveyClosed(Exception):
    """The survey cannot take this answer: unknown, expired, or answered already."""

    def __init__(self, reason: str, *, status_code: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


def default_csat_settings() -> dict:
    return {
        "enabled": True,
        "delay_seconds": 300,
        "expiry_days": 7,
        "question": "How would you rate the help you received?",
        "thank_you": "Thank you for your feedback!",
        "language": "en",
        "fatigue_days": 14,
    }


def csat_settings(channel) -> dict:
    """The channel's survey settings over the defaults; a number stored unreadable (the
    API checks them, Django admin edits raw JSON) falls back to its default."""
    defaults = default_csat_settings()
    options = {**defaults, **(channel.csat if isinstance(channel.csat, dict) else {})}
    for name in ("delay_seconds", "expiry_days", "fatigue_days"):
        try:
            options[name] = max(int(options[name]), 0)
        except (TypeError, ValueError):
            options[name] = defaults[name]
    return options


def survey_url(survey: CsatSurvey) -> str:
    return f"{settings.PUBLIC_BASE_URL}/survey/{survey.token}/"


def csat_schedule_on_resolve(*, conversation: Conversation) -> CsatSurvey | None:
    """Record the survey due after the channel's delay; call inside the resolve transaction.

    A conversation gets at most one survey: one already sent or answered stays; one
    still waiting (or skipped because the conversation was reopened) is scheduled anew.
    """
    options = csat_settings(conversation.channel)
    if not options.get("enabled", True):
        return None
    due_at = timezone.now() + timedelta(seconds=int(options.get("delay_seconds", 300)))
    frozen = {
        "customer_id": conversation.customer_id,
        "channel_id": conversation.channel_id,
        "operator_id": conversation.assignee_id,
        "team_id": conversation.team_id,
        "last_replier_id": _last_public_replier_id(conversation),
    }
    survey = CsatSurvey.objects.select_for_update().filter(conversation=conversation).first()
    if survey is None:
        return CsatSurvey.objects.create(
            conversation=conversation,
            token=secrets.token_urlsafe(24),
            due_at=due_at,
            **frozen,
        )
    if survey.status in (SurveyStatus.SCHEDULED, SurveyStatus.QUEUED, SurveyStatus.SKIPPED):
        for field, value in frozen.items():
            setattr(survey, field, value)
        survey.status = SurveyStatus.SCHEDULED
        survey.due_at = due_at
        survey.skip_reason = ""
        survey.save()
    return survey


def _last_public_replier_id(conversation: Conversation) -> int | None:
    return (
        Message.objects.filter(
            conversation=conversation,
            direction=MessageDirection.OUTBOUND,
            is_private=False,
            author__isnull=False,
        )
        .order_by("-id")
        .values_list("author_id", flat=True)
        .first()
    )


def csat_surveys_queue_due(*, batch_size: int = 200) -> list[int]:
    """Move due surveys to `queued` and return their ids, to be sent by the worker.

    Also heals what a crash left behind: a survey queued long ago whose task was lost is
    queued again (it never started sending); one stuck in `sending` is marked failed
    rather than resent, since the platform may have received it.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CSAT_STALE_SECONDS)
    CsatSurvey.objects.filter(status=SurveyStatus.SENDING, sending_started_at__lt=stale).update(
        status=SurveyStatus.FAILED,
        skip_reason="interrupted while sending; not resent to avoid a duplicate survey",
        updated_at=now,
    )
    with transaction.atomic():
        due = list(
            CsatSurvey.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=SurveyStatus.SCHEDULED, due_at__lte=now)
                | Q(status=SurveyStatus.QUEUED, queued_at__lt=stale)
            )
            .order_by("due_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        CsatSurvey.objects.filter(pk__in=due).update(
            status=SurveyStatus.QUEUED, queued_at=now, updated_at=now
        )
    return due


@dataclass(frozen=True)
class SurveyToSend:
    survey: CsatSurvey
    question: str
    url: str


def csat_survey_start_sending(*, survey_id: int) -> SurveyToSend | None:
    """Claim a queued survey for sending, after re-checking it should still go out.

    Returns None when another run has it, or when it was skipped (the reason stored).
    """
    claimed = CsatSurvey.objects.filter(pk=survey_id, status=SurveyStatus.QUEUED).update(
        status=SurveyStatus.SENDING,
        sending_started_at=timezone.now(),
        send_attempts=F("send_attempts") + 1,
        updated_at=timezone.now(),
    )
    if not claimed:
        return None
    survey = CsatSurvey.objects.select_related(
        "conversation", "conversation__channel", "customer"
    ).get(pk=survey_id)
    reason = _skip_reason(survey)
    if reason:
        _finish(survey_id, status=SurveyStatus.SKIPPED, skip_reason=reason)
        logger.info("CSAT survey %s skipped: %s", survey_id, reason)
        return None
    options = csat_settings(survey.conversation.channel)
    return SurveyToSend(survey=survey, question=options["question"], url=survey_url(survey))


def _skip_reason(survey: CsatSurvey) -> str:
    conversation = survey.conversation
    options = csat_settings(conversation.channel)
    if conversation.status != ConversationStatus.RESOLVED:
        return "the conversation was reopened before the survey was due"
    if not options.get("enabled", True):
        return "surveys are turned off for this channel"
    has_operator_reply = Message.objects.filter(
        conversation=conversation, direction=MessageDirection.OUTBOUND, is_private=False
    ).exists()
    if not has_operator_reply:
        return "no operator replied in this conversation"
    fatigue_days = int(options.get("fatigue_days", 14))
    recently = timezone.now() - timedelta(days=fatigue_days)
    if (
        CsatSurvey.objects.filter(customer=survey.customer, sent_at__gte=recently)
        .exclude(pk=survey.pk)
        .exists()
    ):
        return f"the customer was surveyed in the last {fatigue_days} days"
    unreachable = Identity.objects.filter(
        customer=survey.customer, kind=conversation.channel.kind, is_reachable=False
    )
    if conversation.channel.kind == IdentityKind.EMAIL:
        # A customer with several addresses: only the one this conversation mails matters.
        unreachable = unreachable.filter(value=conversation.recipient_address.strip().lower())
    if unreachable.exists():
        return "the customer cannot be reached on this channel"
    return ""


def _finish(survey_id: int, **fields) -> None:
    CsatSurvey.objects.filter(pk=survey_id, status=SurveyStatus.SENDING).update(
        updated_at=timezone.now(), **fields
    )


def csat_survey_mark_sent(*, survey: CsatSurvey, external_id: str | None) -> None:
    now = timezone.now()
    options = csat_settings(survey.conversation.channel)
    _finish(
        survey.pk,
        status=SurveyStatus.SENT,
        sent_at=now,
        expires_at=now + timedelta(days=int(options.get("expiry_days", 7))),
        external_id=external_id or "",
    )


def csat_survey_mark_send_failed(
    *, survey: CsatSurvey, reason: str, retry_in: float | None
) -> None:
    """A send that surely did not go out: schedule it again, or give up with the reason."""
    if retry_in is not None:
        _finish(
            survey.pk,
            status=SurveyStatus.SCHEDULED,
            due_at=timezone.now() + timedelta(seconds=retry_in),
            skip_reason=f"retrying after: {reason}"[:255],
        )
    else:
        _finish(survey.pk, status=SurveyStatus.FAILED, skip_reason=reason[:255])


def csat_survey_get_by_token(*, token: str) -> CsatSurvey:
    survey = (
        CsatSurvey.objects.select_related("conversation__channel", "customer")
        .filter(token=token)
        .first()
    )
    if survey is None or survey.status not in (SurveyStatus.SENT, SurveyStatus.ANSWERED):
        raise SurveyClosed("This survey link is not valid.", status_code=404)
    return survey


def csat_record_answer(*, survey: CsatSurvey, rating: int | None, comment: str = "") -> CsatSurvey:
    """Store the customer's rating (1 to 5) and optional comment.

    A survey takes one rating: the same link cannot change it later, though a comment
    can still be added to a rating given without one.
    """
    comment = (comment or "").strip()[:2000]
    with transaction.atomic():
        survey = CsatSurvey.objects.select_for_update().get(pk=survey.pk)
        if survey.status == SurveyStatus.ANSWERED:
            if rating is not None and rating != survey.rating:
                raise SurveyClosed("This survey was answered already.", status_code=409)
            if comment and not survey.comment:
                survey.comment = comment
                survey.save(update_fields=["comment", "updated_at"])
            return survey
        if survey.status != SurveyStatus.SENT:
            raise SurveyClosed("This survey link is not valid.", status_code=404)
        if survey.expires_at and survey.expires_at < timezone.now():
            raise SurveyClosed("This survey has closed.", status_code=410)
        if rating not in RATINGS:
            raise SurveyClosed("Choose a rating from 1 to 5.")
        survey.rating = rating
        survey.comment = comment
        survey.status = SurveyStatus.ANSWERED
        survey.answered_at = timezone.now()
        survey.save(update_fields=["rating", "comment", "status", "answered_at", "updated_at"])
        if rating <= LOW_RATING:
            realtime.csat_low_rating(survey)
    return survey


def csat_answer_from_message(*, conversation: Conversation, text: str, button_payload: str = ""):
    """If this customer message answers the conversation's survey, record it.

    A button answer carries `csat:<token>:<rating>`; a bare "1".."5" counts while the
    survey is open; free text shortly after a rating becomes its comment. Returns the
    survey when the message was taken as an answer, else None.
    """
    survey = (
        CsatSurvey.objects.filter(
            conversation=conversation, status__in=(SurveyStatus.SENT, SurveyStatus.ANSWERED)
        )
        .select_related("conversation__channel")
        .first()
    )
    if survey is None:
        return None
    rating = _rating_in(survey, text=text, button_payload=button_payload)
    try:
        if rating is not None and survey.status == SurveyStatus.SENT:
            return csat_record_answer(survey=survey, rating=rating)
        if (
            survey.status == SurveyStatus.ANSWERED
            and rating is None
            and not survey.comment
            and text.strip()
            and survey.answered_at
            and timezone.now() - survey.answered_at < COMMENT_WINDOW
        ):
            return csat_record_answer(survey=survey, rating=None, comment=text)
    except SurveyClosed:
        return None
    return None


def _rating_in(survey: CsatSurvey, *, text: str, button_payload: str) -> int | None:
    if button_payload.startswith("csat:"):
        parts = button_payload.split(":")
        if len(parts) == 3 and parts[1] == survey.token and parts[2] in {"1", "2", "3", "4", "5"}:
            return int(parts[2])
        return None
    stripped = text.strip()
    if stripped.isdigit() and int(stripped) in RATINGS:
        return int(stripped)
    return None


def csat_button_payload(survey: CsatSurvey, rating: int) -> str:
    return f"csat:{survey.token}:{rating}"
