"""NPS as a relationship survey: the survey after a resolved conversation asks NPS in place
of the channel's CSAT or CES when the customer is due for it.

A customer is due when NPS is on, they are in the sampled share, and no NPS survey of
theirs was sent (or is on its way) within the interval. The choice is made when the
conversation is resolved, with the customer's row locked, so two conversations resolved at
once do not both ask it; a contact keeps one survey whatever its kind.
"""

import hashlib
from datetime import datetime, timedelta

from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext_noop

from customers.languages import text_in_language
from customers.models import Customer
from inbox import survey_kinds
from inbox.models import CsatSurvey, SurveyKind, SurveyStatus
from inbox.nps_settings import NpsSettings

FOLLOW_UP_QUESTION = gettext_noop("What is the main reason for your score?")
PENDING = (SurveyStatus.SCHEDULED, SurveyStatus.QUEUED, SurveyStatus.SENDING)


def nps_is_due(
    *,
    customer_id: int,
    options: NpsSettings,
    now: datetime,
    excluding_survey_id: int | None = None,
) -> bool:
    """Whether this customer's next survey should ask NPS; call inside the transaction that
    records the survey (it locks the customer's row)."""
    if not options.enabled or not is_sampled(customer_id=customer_id, options=options, now=now):
        return False
    list(Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk"))
    since = now - timedelta(days=options.interval_days)
    asked = (
        CsatSurvey.objects.filter(customer_id=customer_id, kind=SurveyKind.NPS)
        .alias(asked_at=Coalesce("sent_at", "sending_started_at"))
        .filter(Q(status__in=PENDING) | Q(asked_at__gte=since))
    )
    if excluding_survey_id is not None:
        asked = asked.exclude(pk=excluding_survey_id)
    return not asked.exists()


def is_sampled(*, customer_id: int, options: NpsSettings, now: datetime) -> bool:
    """Whether the customer is in the share asked during the current interval: the same
    answer all interval long, a fresh draw in the next."""
    if options.sample_percent >= 100:
        return True
    interval = int(now.timestamp() // 86400) // max(options.interval_days, 1)
    digest = hashlib.sha256(f"nps:{customer_id}:{interval}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < options.sample_percent


def nps_question(options: NpsSettings, language: str) -> str:
    """The admin's question in `language`, else the catalogue's."""
    with translation.override(language):
        fallback = translation.gettext(survey_kinds.NPS.question)
    return text_in_language(options.question or None, language, fallback=fallback)


def nps_follow_up_question(language: str) -> str:
    with translation.override(language):
        return translation.gettext(FOLLOW_UP_QUESTION)
