"""NPS and CES reports per operator, team, channel or day, with the period's overall figures.

NPS = % promoters (9-10) - % detractors (0-6) of the responses, from -100 to 100; passives
(7-8) count only as responses. CES: the average answer (1-7, 7 = very easy) and the share
of easy answers (5-7). Surveys are counted in the period they were sent, as CSAT's are.
"""

from collections import defaultdict
from typing import Any

from inbox import survey_kinds
from inbox.models import SurveyKind
from inbox.reports import ReportFilters, group_labels, survey_answer_counts

PROMOTERS_FROM = 9
PASSIVES_FROM = 7
EASY_FROM = 5


def nps_report(*, group_by: str, filters: ReportFilters) -> dict[str, Any]:
    """`{"results": [one row per group], "overall": {...}}`; two queries at most."""
    return _report(group_by=group_by, filters=filters, kind=SurveyKind.NPS, figures=nps_figures)


def ces_report(*, group_by: str, filters: ReportFilters) -> dict[str, Any]:
    """`{"results": [one row per group], "overall": {...}}`; two queries at most."""
    return _report(group_by=group_by, filters=filters, kind=SurveyKind.CES, figures=ces_figures)


def nps_figures(by_rating: dict[int | None, int]) -> dict[str, Any]:
    """The NPS figures of answer counts by value (None: sent, not answered)."""
    responses = sum(count for value, count in by_rating.items() if value is not None)
    promoters = sum(by_rating.get(value, 0) for value in range(PROMOTERS_FROM, 11))
    passives = sum(by_rating.get(value, 0) for value in range(PASSIVES_FROM, PROMOTERS_FROM))
    detractors = responses - promoters - passives
    return {
        **_response_counts(by_rating, responses, kind=SurveyKind.NPS),
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "nps": round(100 * (promoters - detractors) / responses, 2) if responses else None,
    }


def ces_figures(by_rating: dict[int | None, int]) -> dict[str, Any]:
    """The CES figures of answer counts by value (None: sent, not answered)."""
    responses = sum(count for value, count in by_rating.items() if value is not None)
    total = sum(value * count for value, count in by_rating.items() if value is not None)
    easy = sum(by_rating.get(value, 0) for value in range(EASY_FROM, 8))
    return {
        **_response_counts(by_rating, responses, kind=SurveyKind.CES),
        "average": round(total / responses, 2) if responses else None,
        "easy_percent": round(100 * easy / responses, 2) if responses else None,
    }


def _response_counts(by_rating: dict[int | None, int], responses: int, *, kind: str) -> dict:
    surveys_sent = responses + by_rating.get(None, 0)
    return {
        "surveys_sent": surveys_sent,
        "responses": responses,
        "response_rate": round(responses / surveys_sent, 4) if surveys_sent else None,
        "distribution": {
            str(value): by_rating.get(value, 0) for value in survey_kinds.scale_of(kind).values
        },
    }


def _report(*, group_by: str, filters: ReportFilters, kind: str, figures) -> dict[str, Any]:
    # Counts per (group, answer) only; every figure derives from them, the overall ones too.
    counts: dict = defaultdict(lambda: defaultdict(int))
    overall: dict[int | None, int] = defaultdict(int)
    for key, rating, count in survey_answer_counts(filters, kind=kind, group_by=group_by):
        counts[key][rating] += count
        overall[rating] += count
    labels = group_labels(group_by, list(counts))
    results = [
        {
            "group": {"id": str(key) if group_by == "day" else key, "name": labels.get(key, "")},
            **figures(counts[key]),
        }
        for key in sorted(counts, key=lambda value: (value is None, value))
    ]
    return {"results": results, "overall": figures(overall)}
