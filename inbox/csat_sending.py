"""Sending due CSAT surveys a batch at a time: what to skip, the claim just before each
send, and the outcome after it.

A worker sends a batch with many requests on their way at once
(channels_app.services.survey_dispatch), so each step works on many surveys in a few statements,
and each is a guarded UPDATE like the rest of the state machine (inbox.csat). A survey
moves queued → sending only in the statement that claims it, right before its request
goes out: a worker that dies leaves in `sending` only what was on its way (`unknown` later,
never resent and still answerable, since the platform may have it) and in `queued` the
rest, which the sweep queues again.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from channels_app.contracts import DeliveryFailed, SurveyNotAllowed
from customers.models import Identity, IdentityKind
from inbox import csat
from inbox.delivery_failures import failure_in_english
from inbox.models import (
    ConversationStatus,
    CsatSurvey,
    Message,
    MessageDirection,
    SurveyKind,
    SurveyReason,
    SurveyStatus,
)
from inbox.nps_settings import nps_settings_get
from inbox.services import delivery_retry_delay

logger = logging.getLogger(__name__)


# What sending reads of a survey and its conversation; the rest of a batch's rows stay
# in the database (a test counts the queries, so a field missed here shows).
SENDING_NEEDS = (
    "id",
    "kind",
    "status",
    "token",
    "due_at",
    "send_attempts",
    "customer_id",
    "customer__language",
    "channel_id",
    "conversation__id",
    "conversation__status",
    "conversation__recipient_address",
    "conversation__last_inbound_at",
    "conversation__channel_id",
)


@dataclass(frozen=True)
class SurveyToSend:
    survey: CsatSurvey
    language: str
    question: str
    url: str


def csat_surveys_prepare(*, survey_ids: Iterable[int]) -> list[SurveyToSend]:
    """The batch's queued surveys that should still go out, oldest due first, after
    checking each again; the others are marked skipped with the reason. Claims nothing."""
    surveys = list(
        CsatSurvey.objects.filter(pk__in=list(survey_ids), status=SurveyStatus.QUEUED)
        .select_related("conversation", "customer")
        # One instance per channel (its settings and secrets read once), not one per row.
        .prefetch_related("conversation__channel")
        .only(*SENDING_NEEDS)
        .order_by("due_at", "pk")
    )
    options_by_channel = {
        survey.channel_id: csat.csat_settings(survey.conversation.channel) for survey in surveys
    }
    reasons = _skip_reasons(surveys, options_by_channel=options_by_channel)
    skipped_by_reason: dict[tuple[str, str], list[int]] = defaultdict(list)
    for survey_id, code_and_words in reasons.items():
        skipped_by_reason[code_and_words].append(survey_id)
    for (code, reason), survey_ids_skipped in skipped_by_reason.items():
        CsatSurvey.objects.filter(pk__in=survey_ids_skipped, status=SurveyStatus.QUEUED).update(
            status=SurveyStatus.SKIPPED,
            skip_reason=reason,
            reason_code=code,
            updated_at=timezone.now(),
        )
        logger.info("CSAT surveys %s skipped: %s", survey_ids_skipped, reason)
    to_send = []
    # Read once for the batch, and only when it holds an NPS survey.
    nps_options = (
        nps_settings_get() if any(survey.kind == SurveyKind.NPS for survey in surveys) else None
    )
    for survey in surveys:
        if survey.pk in reasons:
            continue
        # Kept on the instance for csat_surveys_mark_sent, which records it.
        survey.language = csat.survey_language(
            customer_language=survey.customer.language, channel=survey.conversation.channel
        )
        question = csat.survey_question(
            options_by_channel[survey.channel_id],
            survey.language,
            kind=survey.kind,
            nps_options=nps_options,
        )
        to_send.append(
            SurveyToSend(
                survey=survey,
                language=survey.language,
                question=question,
                url=csat.survey_url(survey),
            )
        )
    return to_send


def _skip_reasons(
    surveys: list[CsatSurvey], *, options_by_channel: dict[int, dict[str, Any]]
) -> dict[int, tuple[str, str]]:
    """Why each survey should not go out now, by id, as (code, words): a few queries for
    the whole batch."""
    if not surveys:
        return {}
    now = timezone.now()
    customer_ids = {survey.customer_id for survey in surveys}
    replied = set(
        Message.objects.filter(
            conversation_id__in=[survey.conversation_id for survey in surveys],
            direction=MessageDirection.OUTBOUND,
            is_private=False,
        )
        .values_list("conversation_id", flat=True)
        .distinct()
    )
    longest_fatigue = max(options["fatigue_days"] for options in options_by_channel.values())
    sent_recently: dict[int, list[tuple[int, datetime | None]]] = defaultdict(list)
    since = now - timedelta(days=longest_fatigue)
    # A survey whose send's outcome is unknown may have reached the customer: it counts.
    for customer_id, survey_id, sent_at in (
        CsatSurvey.objects.filter(customer_id__in=customer_ids)
        .filter(
            Q(sent_at__gte=since) | Q(status=SurveyStatus.UNKNOWN, sending_started_at__gte=since)
        )
        .values_list("customer_id", "pk", Coalesce("sent_at", "sending_started_at"))
    ):
        sent_recently[customer_id].append((survey_id, sent_at))
    unreachable: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for customer_id, kind, value in Identity.objects.filter(
        customer_id__in=customer_ids, is_reachable=False
    ).values_list("customer_id", "kind", "value"):
        unreachable[customer_id].add((kind, value))

    reasons: dict[int, tuple[str, str]] = {}
    # Two conversations of one customer resolved together: the first due is asked.
    surveyed_in_this_batch: set[int] = set()
    for survey in surveys:
        conversation = survey.conversation
        options = options_by_channel[survey.channel_id]
        fatigue_days = options["fatigue_days"]
        recently = now - timedelta(days=fatigue_days)
        if conversation.status != ConversationStatus.RESOLVED:
            reasons[survey.pk] = (
                SurveyReason.REOPENED,
                "the conversation was reopened before the survey was due",
            )
        elif not options.get("enabled", True):
            reasons[survey.pk] = (
                SurveyReason.TURNED_OFF,
                "surveys are turned off for this channel",
            )
        elif conversation.pk not in replied:
            reasons[survey.pk] = (
                SurveyReason.NO_REPLY,
                "no operator replied in this conversation",
            )
        elif (fatigue_days and survey.customer_id in surveyed_in_this_batch) or any(
            other_id != survey.pk and sent_at is not None and sent_at >= recently
            for other_id, sent_at in sent_recently[survey.customer_id]
        ):
            reasons[survey.pk] = (
                SurveyReason.FATIGUE,
                f"the customer was surveyed in the last {fatigue_days} days",
            )
        elif _is_unreachable(survey, unreachable[survey.customer_id]):
            reasons[survey.pk] = (
                SurveyReason.UNREACHABLE,
                "the customer cannot be reached on this channel",
            )
        else:
            surveyed_in_this_batch.add(survey.customer_id)
    return reasons


def _is_unreachable(survey: CsatSurvey, unreachable: set[tuple[str, str]]) -> bool:
    kind = survey.conversation.channel.kind
    if kind == IdentityKind.EMAIL:
        # A customer with several addresses: only the one this conversation mails matters.
        return (kind, survey.conversation.recipient_address.strip().lower()) in unreachable
    return any(unreachable_kind == kind for unreachable_kind, _ in unreachable)


def csat_surveys_claim(*, survey_ids: list[int]) -> set[int]:
    """Move these queued surveys to `sending`, right before their requests go out; returns
    the ids claimed here (not one another run claimed first, or that left the queue)."""
    if not survey_ids:
        return set()
    now = timezone.now()
    # One statement, as it runs for every few surveys sent: the guard and the ids claimed.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CsatSurvey._meta.db_table} SET status = %s, sending_started_at = %s, "
            "send_attempts = send_attempts + 1, updated_at = %s "
            f"WHERE id IN ({', '.join(['%s'] * len(survey_ids))}) AND status = %s RETURNING id",
            [SurveyStatus.SENDING.value, now, now, *survey_ids, SurveyStatus.QUEUED.value],
        )
        return {row[0] for row in cursor.fetchall()}


def csat_surveys_mark_sent(*, sent: list[tuple[CsatSurvey, str | None]]) -> None:
    """Record the surveys the platform accepted, with its id for each."""
    now = timezone.now()
    groups: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
    for survey, external_id in sent:
        expiry_days = csat.csat_settings(survey.conversation.channel)["expiry_days"]
        groups[(expiry_days, survey.language)].append((survey.pk, external_id or ""))
    for (expiry_days, language), group in groups.items():
        # One statement per group, as it runs for every few surveys sent.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {CsatSurvey._meta.db_table} SET status = %s, sent_at = %s, "
                "expires_at = %s, skip_reason = '', updated_at = %s, language = %s, "
                "external_id = CASE id "
                + " ".join(["WHEN %s THEN %s"] * len(group))
                + f" ELSE '' END WHERE id IN ({', '.join(['%s'] * len(group))}) AND status = %s",
                [
                    SurveyStatus.SENT.value,
                    now,
                    now + timedelta(days=expiry_days),
                    now,
                    language,
                    *(value for pair in group for value in pair),
                    *(survey_id for survey_id, _ in group),
                    SurveyStatus.SENDING.value,
                ],
            )


def csat_surveys_mark_send_failed(*, failed: list[tuple[CsatSurvey, DeliveryFailed]]) -> None:
    """Surveys that surely did not go out: scheduled again with backoff when the failure
    is worth retrying (a platform's retry_after wins when longer), else failed with the
    reason, for people to see."""
    now = timezone.now()
    earliest_retry: datetime | None = None
    for survey, failure in failed:
        attempts = survey.send_attempts + 1  # the claim counted this one
        if failure.is_retryable and attempts <= settings.DELIVERY_MAX_RETRIES:
            delay = delivery_retry_delay(attempt=attempts, retry_after=failure.retry_after)
            due_at = now + timedelta(seconds=delay)
            earliest_retry = min(earliest_retry or due_at, due_at)
            CsatSurvey.objects.filter(pk=survey.pk, status=SurveyStatus.SENDING).update(
                status=SurveyStatus.SCHEDULED,
                due_at=due_at,
                skip_reason=f"retrying after: {failure_in_english(failure.failure)}"[:255],
                updated_at=now,
            )
        else:
            logger.warning("CSAT survey %s failed: %s", survey.pk, failure.reason)
            CsatSurvey.objects.filter(pk=survey.pk, status=SurveyStatus.SENDING).update(
                status=SurveyStatus.FAILED,
                skip_reason=failure_in_english(failure.failure)[:255],
                reason_code=failure_reason_code(failure),
                updated_at=now,
            )
    if earliest_retry is not None:
        csat.csat_sweep_wake_at(earliest_retry)


def failure_reason_code(failure: DeliveryFailed) -> str:
    if failure.is_recipient_unreachable:
        return SurveyReason.UNREACHABLE
    if failure.is_credential_rejected:
        return SurveyReason.CREDENTIALS_REJECTED
    return SurveyReason.PLATFORM_ERROR


def csat_surveys_mark_not_allowed(
    *, not_allowed: list[tuple[CsatSurvey, SurveyNotAllowed]]
) -> None:
    """Surveys the platform does not take now (its messaging window closed, no template to
    send instead): nothing went out, so they are skipped with the reason, not failed."""
    now = timezone.now()
    for survey, refusal in not_allowed:
        logger.info("CSAT survey %s skipped: %s", survey.pk, refusal.reason)
        CsatSurvey.objects.filter(pk=survey.pk, status=SurveyStatus.SENDING).update(
            status=SurveyStatus.SKIPPED,
            skip_reason=failure_in_english(refusal.reason)[:255],
            reason_code=refusal.reason_code,
            updated_at=now,
        )


def csat_surveys_defer(*, survey_ids: list[int], until: datetime, reason: str) -> None:
    """Put queued surveys back on the schedule, due `until`: their channel cannot send
    before then, and a worker should not sit waiting for it."""
    CsatSurvey.objects.filter(pk__in=survey_ids, status=SurveyStatus.QUEUED).update(
        status=SurveyStatus.SCHEDULED,
        due_at=until,
        skip_reason=reason[:255],
        updated_at=timezone.now(),
    )
    csat.csat_sweep_wake_at(until)
