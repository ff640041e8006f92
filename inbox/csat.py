"""CSAT surveys: scheduled on resolve, sent once by a worker, answered on any channel.

The state lives in CsatSurvey rows. Beat sweeps due surveys (a due time in the
database, not a long countdown) and moves each through guarded transitions, so a
task that runs twice, is retried, or is redelivered after its worker died never
sends a second survey. A sweep queues every due survey in batches, and a survey due
before beat's next look gets a sweep of its own at its due time; sending a batch is
inbox.csat_sending's part.
"""

import logging
import math
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from customers.languages import channel_language, reader_language, text_in_language
from inbox import nps, realtime, redis_silence, survey_kinds
from inbox.follow_ups.queue import survey_follow_up_request
from inbox.models import (
    Conversation,
    CsatSurvey,
    Message,
    MessageDirection,
    SurveyStatus,
)
from inbox.nps_settings import NpsSettings, nps_settings_get
from inbox.outgoing_webhooks.emitting import survey_answered_emit
from inbox.rule_events import Trigger, rule_event_on_commit
from inbox.task_outbox import task_publish_within_deadline

logger = logging.getLogger(__name__)

SWEEP_TASK = "inbox.tasks.csat_surveys_queue_due"
# Surveys a sending task takes at once, and the batches one sweep queues at most.
BATCH_SIZE = 200
MAX_BATCHES_PER_SWEEP = 250
# A survey due within this many seconds gets a sweep of its own at its due time; later
# ones are seen by a beat sweep first (CSAT_SWEEP_SECONDS must stay below it).
WAKE_HORIZON_SECONDS = 60

# The texts a channel's settings may replace (with one text, or one per language).
DEFAULT_TEXTS = {
    "question": survey_kinds.CSAT.question,
    "thank_you": gettext_noop("Thank you for your feedback!"),
}
# Surveys that take a rating: sent, or whose send's outcome is unknown (it may have
# reached the customer; if they answer, it did).
ANSWERABLE = (SurveyStatus.SENT, SurveyStatus.UNKNOWN)
# Surveys a new resolve schedules again (with the attribution of that resolve).
RESCHEDULABLE = (SurveyStatus.SCHEDULED, SurveyStatus.QUEUED, SurveyStatus.SKIPPED)
INTERRUPTED_REASON = (
    "interrupted while sending: it may have reached the customer, whose answer is still "
    "taken; not resent to avoid a duplicate survey"
)


class SurveyClosed(Exception):
    """The survey cannot take this answer: unknown, expired, or answered already."""

    def __init__(self, reason: str | Promise, *, status_code: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


def default_csat_settings() -> dict:
    return {
        "enabled": True,
        "delay_seconds": 300,
        "expiry_days": 7,
        "question": DEFAULT_TEXTS["question"],
        "thank_you": DEFAULT_TEXTS["thank_you"],
        # For customers whose own language is not known; "" follows config.language.
        "language": "",
        "fatigue_days": 14,
        # The question asked after a resolved conversation: satisfaction, or effort.
        "kind": survey_kinds.CSAT.kind,
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
    if options["kind"] not in survey_kinds.POST_CONTACT_KINDS:
        options["kind"] = defaults["kind"]
    return options


def survey_language(*, customer_language: str, channel) -> str:
    """What a survey to this customer on this channel is written in."""
    return reader_language(
        customer_language, channel_language(channel.config), (channel.csat or {}).get("language")
    )


def survey_text(options: dict, name: str, language: str, *, kind: str = "csat") -> str:
    """The channel's `question` or `thank_you` in `language`: its own text for that
    language, else the catalogue's. The channel's question is for the kind it asks after
    a contact; another kind's survey asks that kind's own. A stored default counts as not
    customised."""
    if name == "question":
        default = survey_kinds.scale_of(kind).question
        configured = options.get(name) if kind == options.get("kind", "csat") else None
        if isinstance(configured, str) and configured in {
            scale.question for scale in survey_kinds.SCALES.values()
        }:
            configured = None
    else:
        default = DEFAULT_TEXTS[name]
        configured = options.get(name)
        if configured == default:
            configured = None
    with translation.override(language):
        fallback = translation.gettext(default)
    return text_in_language(configured, language, fallback=fallback)


def survey_question(
    options: dict, language: str, *, kind: str, nps_options: NpsSettings | None = None
) -> str:
    """What a survey of `kind` on a channel with these settings asks, in `language`: NPS
    asks the installation's question (inbox.nps), the others the channel's."""
    if kind == survey_kinds.NPS.kind:
        return nps.nps_question(nps_options or nps_settings_get(), language)
    return survey_text(options, "question", language, kind=kind)


def rating_labels(language: str, *, kind: str = "csat") -> dict[int, str]:
    """Every value of the kind's scale with its name in `language`."""
    return survey_kinds.scale_of(kind).labels(language)


def survey_url(survey: CsatSurvey) -> str:
    return f"{settings.PUBLIC_BASE_URL}/survey/{survey.token}/"


def csat_schedule_on_resolve(*, conversation: Conversation) -> CsatSurvey | None:
    """Record the survey due after the channel's delay; call inside the resolve transaction.

    A conversation gets at most one survey: one already sent or answered stays; one
    still waiting (or skipped because the conversation was reopened) is scheduled anew.
    It asks the channel's kind (CSAT or CES), or NPS when the customer is due for it
    (inbox.nps).
    """
    options = csat_settings(conversation.channel)
    if not options.get("enabled", True):
        return None
    now = timezone.now()
    due_at = now + timedelta(seconds=int(options.get("delay_seconds", 300)))
    survey = CsatSurvey.objects.select_for_update().filter(conversation=conversation).first()
    if survey is not None and survey.status not in RESCHEDULABLE:
        return survey
    kind = options["kind"]
    if nps.nps_is_due(
        customer_id=conversation.customer_id,
        options=nps_settings_get(),
        now=now,
        excluding_survey_id=survey.pk if survey is not None else None,
    ):
        kind = survey_kinds.NPS.kind
    frozen = {
        "kind": kind,
        "customer_id": conversation.customer_id,
        "channel_id": conversation.channel_id,
        "operator_id": conversation.assignee_id,
        "team_id": conversation.team_id,
        "last_replier_id": _last_public_replier_id(conversation),
    }
    if survey is None:
        survey = CsatSurvey.objects.create(
            conversation=conversation,
            token=secrets.token_urlsafe(24),
            due_at=due_at,
            **frozen,
        )
    else:
        for field, value in frozen.items():
            setattr(survey, field, value)
        survey.status = SurveyStatus.SCHEDULED
        survey.due_at = due_at
        survey.skip_reason = ""
        survey.reason_code = ""
        survey.save()
    csat_sweep_wake_at(due_at)
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


def csat_surveys_queue_due(*, batch_size: int = BATCH_SIZE) -> list[int]:
    """Move one batch of due surveys to `queued` and return their ids, for a worker to send.

    Also heals what a crash left behind (see csat_surveys_heal_interrupted)."""
    csat_surveys_heal_interrupted()
    return _queue_due_batch(batch_size=batch_size)


def csat_surveys_queue_all_due(*, send_batch: Callable[[list[int]], None]) -> int:
    """Queue every due survey, a batch at a time, handing each batch to `send_batch`;
    returns how many were queued.

    It goes on while surveys are due (10,000 due at once are queued in seconds, not one
    batch per beat interval), then asks for a sweep at the next due time if that comes
    before beat would look again.
    """
    csat_surveys_heal_interrupted()
    queued = 0
    for _batch in range(MAX_BATCHES_PER_SWEEP):
        survey_ids = _queue_due_batch(batch_size=BATCH_SIZE)
        if not survey_ids:
            break
        send_batch(survey_ids)
        queued += len(survey_ids)
    else:
        # Still more due: carry on in a fresh task, so no one sweep runs for long.
        transaction.on_commit(lambda: current_app.send_task(SWEEP_TASK), robust=True)
    next_due_at = (
        CsatSurvey.objects.filter(status=SurveyStatus.SCHEDULED)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    if next_due_at is not None:
        csat_sweep_wake_at(next_due_at)
    return queued


def csat_surveys_heal_interrupted() -> None:
    """What a crash left behind: a survey queued long ago whose task was lost goes back on
    the schedule (it never started sending); one stuck in `sending` becomes `unknown`
    rather than resent, since the platform may have received it (see
    csat_surveys_mark_unknown)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CSAT_STALE_SECONDS)
    csat_surveys_mark_unknown(
        surveys=CsatSurvey.objects.filter(
            status=SurveyStatus.SENDING, sending_started_at__lt=stale
        ).select_related("channel"),
        reason=INTERRUPTED_REASON,
    )
    CsatSurvey.objects.filter(status=SurveyStatus.QUEUED, queued_at__lt=stale).update(
        status=SurveyStatus.SCHEDULED, updated_at=now
    )


def csat_surveys_mark_unknown(*, surveys: Iterable[CsatSurvey], reason: str) -> None:
    """Surveys in `sending` whose outcome we never learnt: not resent (the customer may
    have one), and still answerable until the channel's expiry counted from the send,
    since an answer proves it arrived."""
    now = timezone.now()
    ids_by_expiry: dict[int, list[int]] = defaultdict(list)
    for survey in surveys:
        ids_by_expiry[csat_settings(survey.channel)["expiry_days"]].append(survey.pk)
    for expiry_days, survey_ids in ids_by_expiry.items():
        CsatSurvey.objects.filter(pk__in=survey_ids, status=SurveyStatus.SENDING).update(
            status=SurveyStatus.UNKNOWN,
            skip_reason=reason[:255],
            expires_at=Coalesce("sending_started_at", Value(now)) + timedelta(days=expiry_days),
            updated_at=now,
        )
        logger.warning("CSAT surveys %s: outcome unknown (%s)", survey_ids, reason)


def _queue_due_batch(*, batch_size: int) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        due = list(
            CsatSurvey.objects.select_for_update(skip_locked=True)
            .filter(status=SurveyStatus.SCHEDULED, due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        CsatSurvey.objects.filter(pk__in=due).update(
            status=SurveyStatus.QUEUED, queued_at=now, updated_at=now
        )
    return due


def csat_sweep_wake_at(due_at: datetime) -> None:
    """Have the sweep run when `due_at` comes, if that is before beat would look again.

    Surveys then go out when due rather than up to a beat interval later. One wake-up a
    second at most, across all processes (a short countdown: far below the broker's
    visibility timeout, so it is not delivered twice); sent after the current transaction
    commits, best effort: a wake-up lost leaves the survey to beat's next sweep.
    """
    seconds = (due_at - timezone.now()).total_seconds()
    if seconds > WAKE_HORIZON_SECONDS:
        return
    second = math.ceil(due_at.timestamp())

    def wake() -> None:
        if not redis_silence.redis_worth_trying():
            return
        try:
            if cache.add(f"csat:sweep-wake:{second}", 1, timeout=WAKE_HORIZON_SECONDS + 60):
                task_publish_within_deadline(SWEEP_TASK, countdown=max(second - time.time(), 0.0))
        except Exception:
            redis_silence.redis_went_silent()
            raise

    transaction.on_commit(wake, robust=True)


def csat_survey_get_by_token(*, token: str) -> CsatSurvey:
    survey = (
        CsatSurvey.objects.select_related("conversation__channel", "customer")
        .filter(token=token)
        .first()
    )
    if survey is None or survey.status not in (*ANSWERABLE, SurveyStatus.ANSWERED):
        raise SurveyClosed(_("This survey link is not valid."), status_code=404)
    return survey


def csat_record_answer(*, survey: CsatSurvey, rating: int | None, comment: str = "") -> CsatSurvey:
    """Store the customer's rating (on the survey kind's scale) and optional comment.

    A survey takes one rating: the same link cannot change it later, though a comment
    can still be added to a rating given without one.
    """
    comment = (comment or "").strip()[:2000]
    with transaction.atomic():
        survey = CsatSurvey.objects.select_for_update().get(pk=survey.pk)
        if survey.status == SurveyStatus.ANSWERED:
            if rating is not None and rating != survey.rating:
                raise SurveyClosed(_("This survey was answered already."), status_code=409)
            if comment and not survey.comment:
                survey.comment = comment
                survey.save(update_fields=["comment", "updated_at"])
            return survey
        if survey.status not in ANSWERABLE:
            raise SurveyClosed(_("This survey link is not valid."), status_code=404)
        if survey.expires_at and survey.expires_at < timezone.now():
            raise SurveyClosed(_("This survey has closed."), status_code=410)
        scale = survey_kinds.scale_of(survey.kind)
        if rating is None or not scale.contains(rating):
            raise SurveyClosed(scale_hint(scale))
        update_fields = ["rating", "comment", "status", "answered_at", "updated_at"]
        if survey.status == SurveyStatus.UNKNOWN:
            # The answer proves the survey arrived: from now on reports count it as sent,
            # when its sending began.
            survey.sent_at = survey.sending_started_at or timezone.now()
            update_fields.append("sent_at")
        survey.rating = rating
        survey.comment = comment
        survey.status = SurveyStatus.ANSWERED
        survey.answered_at = timezone.now()
        survey.save(update_fields=update_fields)
        if rating <= scale.poor_up_to:
            realtime.csat_low_rating(survey)
            survey_follow_up_request(survey_id=survey.pk)
        survey_answered_emit(survey)
        rule_event_on_commit(
            triggers=[Trigger.SURVEY_ANSWERED],
            key=f"survey:{survey.pk}",
            conversation_id=survey.conversation_id,
            detail=str(rating),
        )
    return survey


def _scale_hint_now(scale: survey_kinds.SurveyScale) -> str:
    return translation.gettext("Please answer with a number from %(lowest)s to %(highest)s.") % {
        "lowest": scale.lowest,
        "highest": scale.highest,
    }


# What a customer who answered off the scale is told, in the language active when shown.
scale_hint = lazy(_scale_hint_now, str)


def csat_button_payload(survey: CsatSurvey, rating: int) -> str:
    return f"csat:{survey.token}:{rating}"
