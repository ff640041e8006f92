"""Sending a batch of due CSAT surveys with many requests on their way at once.

A platform answers in tens of milliseconds, so one process sending one survey at a time
manages a few dozen a second. Here a worker process keeps up to CSAT_SEND_CONCURRENCY
requests in flight, on threads that only talk HTTP (each with its own pooled client),
while the task's own thread does the database work for the batch in few statements and
keeps every guarantee of the state machine (inbox.csat, inbox.csat_sending):

- each survey is claimed (queued → sending) just before its request goes out and marked
  sent as soon as the platform accepts it, so a worker killed mid-batch leaves in
  `sending` only what was on its way (never resent) and `queued` the rest, which the
  sweep queues again;
- a platform's cap on messages a second (Telegram: about 30 a bot) holds across every
  worker process (channels_app.send_rate); a channel that cannot send for a while gets
  its surveys put back on the schedule rather than holding the worker;
- a 429 pauses the channel for the time the platform gives and reschedules the survey;
  other retryable failures back off as replies do; the rest are shown as failed;
- a survey the platform does not take now (outside its messaging window, with no
  template to send instead) is skipped with the reason, not failed;
- a request the platform may have had when no answer came (a timeout waiting for it, a
  connection dropped) is never tried again, as a survey interrupted in `sending` is not,
  unless the platform drops repeats itself.

Adapters whose send_survey is not plain HTTP (mail, the widget's channel layer) send one
survey at a time on the task's own thread.
"""

import logging
import os
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone, translation

from channels_app.adapters.base import ChannelAdapter
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryResult,
    OutboundSurvey,
    SurveyNotAllowed,
)
from channels_app.http import http_client, request_may_have_arrived
from channels_app.registry import adapter_for
from channels_app.send_rate import send_rate_pause, send_slots_reserve
from inbox import csat, csat_sending, platform_reports, survey_kinds
from inbox.csat_sending import SurveyToSend
from inbox.delivery_failures import failure_in_english
from inbox.models import CsatSurvey

logger = logging.getLogger(__name__)

# A channel whose next send slot is further off than this: its surveys go back on the
# schedule, due then, instead of holding a worker process.
MAX_SLOT_WAIT_SECONDS = 5.0
# How long a finished send may wait to be recorded with others of its group.
GATHER_SECONDS = 0.005
# Rate slots that open within this much of each other are used together (a channel's
# own slots are 40 ms apart at Telegram's rate): the loop wakes up at most this often.
SLOT_POLL_SECONDS = 0.025
LATE_SLOT_SECONDS = 0.05


def csat_surveys_send(*, survey_ids: list[int]) -> None:
    """Send these queued surveys, each at most once (see inbox.csat)."""
    to_send = csat_sending.csat_surveys_prepare(survey_ids=survey_ids)
    if to_send:
        _BatchSend(to_send).run()


def csat_survey_send(*, survey_id: int) -> None:
    """Send one queued survey through its channel, at most once (see inbox.csat)."""
    csat_surveys_send(survey_ids=[survey_id])


class _BatchSend:
    def __init__(self, to_send: list[SurveyToSend]) -> None:
        self.in_parallel = len(to_send) > 1
        self.limit = max(1, settings.CSAT_SEND_CONCURRENCY)
        # Surveys are claimed and recorded in groups of about this many: a statement per
        # group rather than per survey. Every claimed survey's request starts at once.
        self.group = max(1, self.limit // 2)
        self.adapters: dict[int, ChannelAdapter] = {}
        self.waiting: dict[int, deque[SurveyToSend]] = {}
        for item in to_send:
            channel = item.survey.conversation.channel
            self.adapters.setdefault(channel.pk, adapter_for(channel))
            self.waiting.setdefault(channel.pk, deque()).append(item)
        # A survey keeps to the same window as a reply: by the platform's time, where the
        # adapter counts it so (one query for the batch).
        self.customer_wrote_at = platform_reports.conversations_customer_last_wrote_at(
            conversation_ids=[
                item.survey.conversation_id
                for item in to_send
                if self.adapters[item.survey.channel_id].windows_from_platform_time
            ]
        )
        # Per channel: when the send slots reserved for its next surveys open, and until
        # when the platform asked us to hold off (time.monotonic()).
        self.slot_opens_at: dict[int, deque[float]] = {}
        self.paused_until: dict[int, float] = {}
        self.in_flight: dict[Future[DeliveryResult], SurveyToSend] = {}
        # Sends as they finish, in order: no looking over every one still on its way.
        self.finished: queue.SimpleQueue[Future[DeliveryResult]] = queue.SimpleQueue()

    def run(self) -> None:
        while self.waiting or self.in_flight:
            self._start_what_may_go()
            self._record_finished()

    def _start_what_may_go(self) -> None:
        if self.in_flight and self.limit - len(self.in_flight) < self.group:
            return
        now = time.monotonic()
        starting: list[SurveyToSend] = []
        for channel_id in list(self.waiting):
            queue = self.waiting[channel_id]
            while queue and len(self.in_flight) + len(starting) < self.limit:
                if not self._may_send(channel_id, now):
                    break
                starting.append(queue.popleft())
            if not queue:
                del self.waiting[channel_id]
                self.slot_opens_at.pop(channel_id, None)
        claimed = csat_sending.csat_surveys_claim(survey_ids=[item.survey.pk for item in starting])
        for item in starting:
            if item.survey.pk in claimed:
                self._start(item)

    def _may_send(self, channel_id: int, now: float) -> bool:
        """Whether the channel's next survey may go now; reserves its rate slot if needed."""
        paused_until = self.paused_until.get(channel_id, 0.0)
        if paused_until > now:
            if paused_until - now > MAX_SLOT_WAIT_SECONDS:
                self._defer(channel_id, seconds=paused_until - now)
            return False
        adapter = self.adapters[channel_id]
        per_second = adapter.survey_sends_per_second
        if per_second is None:
            return True
        slots = self.slot_opens_at.get(channel_id)
        # A slot missed while this thread was busy is left unused: sending late would bunch
        # the channel's messages into more than its rate within a second.
        while slots and now - slots[0] > LATE_SLOT_SECONDS:
            slots.popleft()
        if not slots:
            # Slots for the next second or so of this channel's surveys, in one round trip.
            wanted = min(len(self.waiting[channel_id]), max(1, int(per_second)))
            reservation = send_slots_reserve(
                key=_rate_key(adapter),
                per_second=per_second,
                count=wanted,
                max_wait_seconds=MAX_SLOT_WAIT_SECONDS,
            )
            if not reservation.count:
                self._defer(channel_id, seconds=reservation.wait_seconds)
                return False
            slots = self.slot_opens_at[channel_id] = deque(
                now + reservation.wait_seconds + index / per_second
                for index in range(reservation.count)
            )
        if slots[0] > now:
            return False
        slots.popleft()
        return True

    def _defer(self, channel_id: int, *, seconds: float) -> None:
        queue = self.waiting.get(channel_id)
        if not queue:
            return
        csat_sending.csat_surveys_defer(
            survey_ids=[item.survey.pk for item in queue],
            until=timezone.now() + timedelta(seconds=seconds),
            reason=f"waiting {seconds:.0f} s for the channel's send rate",
        )
        queue.clear()

    def _start(self, item: SurveyToSend) -> None:
        adapter = self.adapters[item.survey.channel_id]
        conversation = item.survey.conversation
        outbound = _outbound(
            item,
            customer_last_message_at=self.customer_wrote_at.get(
                conversation.pk, conversation.last_inbound_at
            ),
        )
        future: Future[DeliveryResult]
        if self.in_parallel and adapter.sends_surveys_in_parallel:
            future = _send_pool().submit(_send_in_its_language, adapter, outbound)
        else:
            future = Future()
            try:
                future.set_result(_send_in_its_language(adapter, outbound))
            except Exception as error:
                future.set_exception(error)
        self.in_flight[future] = item
        future.add_done_callback(self.finished.put)

    def _record_finished(self) -> None:
        now = time.monotonic()
        next_opening = min(
            [
                *(slots[0] for slots in self.slot_opens_at.values() if slots),
                *(
                    until
                    for channel_id, until in self.paused_until.items()
                    if until > now and channel_id in self.waiting
                ),
            ],
            default=None,
        )
        timeout = None if next_opening is None else max(next_opening - now, SLOT_POLL_SECONDS)
        if not self.in_flight:
            if timeout:
                time.sleep(timeout)
            return
        try:
            done = [self.finished.get(timeout=timeout)]
        except queue.Empty:
            return
        # Requests started together finish together: wait a moment for the rest of a group.
        gather_until = time.monotonic() + GATHER_SECONDS
        while len(self.in_flight) >= self.group and len(done) < self.group:
            left = gather_until - time.monotonic()
            if left <= 0:
                break
            try:
                done.append(self.finished.get(timeout=left))
            except queue.Empty:
                break
        while not self.finished.empty():
            done.append(self.finished.get_nowait())
        sent: list[tuple[CsatSurvey, str | None]] = []
        failed: list[tuple[CsatSurvey, DeliveryFailed]] = []
        unknown: list[CsatSurvey] = []
        unanswered: list[tuple[CsatSurvey, DeliveryFailed]] = []
        not_allowed: list[tuple[CsatSurvey, SurveyNotAllowed]] = []
        for future in done:
            item = self.in_flight.pop(future)
            try:
                result = future.result()
            except SurveyNotAllowed as refusal:
                not_allowed.append((item.survey, refusal))
            except DeliveryFailed as failure:
                if self._may_have_arrived(item, failure):
                    unanswered.append((item.survey, failure))
                    continue
                failed.append((item.survey, failure))
                if failure.is_retryable and failure.retry_after:
                    self._pause(item.survey.channel_id, seconds=failure.retry_after)
            except Exception:
                # The request may have gone out: never resent, still answerable.
                logger.exception("CSAT survey %s: sending failed unexpectedly", item.survey.pk)
                unknown.append(item.survey)
            else:
                sent.append((item.survey, result.external_id))
        csat_sending.csat_surveys_mark_sent(sent=sent)
        csat_sending.csat_surveys_mark_send_failed(failed=failed)
        csat_sending.csat_surveys_mark_not_allowed(not_allowed=not_allowed)
        if unknown:
            csat.csat_surveys_mark_unknown(
                surveys=unknown, reason="sending failed unexpectedly; not resent"
            )
        for survey, lost in unanswered:
            csat.csat_surveys_mark_unknown(
                surveys=[survey],
                reason=f"no answer came, though the platform may have it; not resent: "
                f"{failure_in_english(lost.failure)}",
            )

    def _may_have_arrived(self, item: SurveyToSend, failure: DeliveryFailed) -> bool:
        """A retryable failure after the platform may have had the request (a timeout
        waiting for its answer, say): sending again could give the customer a second
        survey, unless the platform drops repeats."""
        adapter = self.adapters[item.survey.channel_id]
        return (
            failure.is_retryable
            and not adapter.survey_resends_are_deduplicated
            and request_may_have_arrived(failure)
        )

    def _pause(self, channel_id: int, *, seconds: float) -> None:
        """The platform said to slow down: this batch and every other process hold off."""
        adapter = self.adapters[channel_id]
        self.paused_until[channel_id] = time.monotonic() + seconds
        self.slot_opens_at.pop(channel_id, None)
        if adapter.survey_sends_per_second is not None:
            send_rate_pause(key=_rate_key(adapter), seconds=seconds)


def _outbound(item: SurveyToSend, *, customer_last_message_at: datetime | None) -> OutboundSurvey:
    survey = item.survey
    conversation = survey.conversation
    return OutboundSurvey(
        survey_id=survey.pk,
        conversation_id=conversation.pk,
        recipient_address=conversation.recipient_address,
        question=item.question,
        url=item.url,
        rating_labels=csat.rating_labels(item.language, kind=survey.kind),
        button_payloads={
            rating: csat.csat_button_payload(survey, rating)
            for rating in survey_kinds.scale_of(survey.kind).values
        },
        customer_last_message_at=customer_last_message_at,
        language=item.language,
        kind=survey.kind,
    )


def _send_in_its_language(adapter: ChannelAdapter, survey: OutboundSurvey) -> DeliveryResult:
    """What the adapter writes around the question (buttons, mail) in the survey's language."""
    with translation.override(survey.language):
        return adapter.send_survey(survey)


def _rate_key(adapter: ChannelAdapter) -> str:
    return f"channel:{adapter.channel.public_id}"


_pool: tuple[int, ThreadPoolExecutor] | None = None


def _send_pool() -> ThreadPoolExecutor:
    """The process's sending threads, made after the worker forked its pool processes."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        size = max(1, settings.CSAT_SEND_CONCURRENCY)
        executor = ThreadPoolExecutor(
            max_workers=size, thread_name_prefix="survey-send", initializer=http_client
        )
        # Start every thread, and its HTTP client, before the first survey: threads started
        # by the first surveys would hold their requests back, which would then reach the
        # platform bunched together, over a rate limit.
        started = threading.Barrier(size)
        for waiting in [executor.submit(started.wait, 30) for _ in range(size)]:
            waiting.result()
        _pool = (os.getpid(), executor)
    return _pool[1]
