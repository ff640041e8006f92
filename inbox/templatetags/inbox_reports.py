"""Drawing helpers for the supervisor report pages: chart geometry and bar widths, so
that templates draw plain SVG and CSS without a charting library."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext

register = template.Library()

CHART_WIDTH = 1080
CHART_HEIGHT = 240
PLOT_LEFT = 40
PLOT_RIGHT = 12
PLOT_TOP = 12
PLOT_BOTTOM = 30
MAX_WEEK_LABELS = 14
PERCENT_TICKS = (0, 25, 50, 75, 100)


@dataclass(frozen=True)
class TrendPoint:
    week: date
    x: float
    y: float
    csat_percent: float
    responses: int


@dataclass(frozen=True)
class TrendBar:
    x: float
    y: float
    width: float
    height: float


def _monday(moment: datetime) -> date:
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


@register.filter
def percent_of(part: object, whole: object) -> str:
    """`part` as a percentage of `whole`, for a CSS width ("37.5"); "0" when whole is 0."""
    try:
        share = 100 * float(str(part)) / float(str(whole))
    except (TypeError, ValueError, ZeroDivisionError):
        return "0"
    return f"{share:.2f}".rstrip("0").rstrip(".")


@register.filter
def duration(seconds: object) -> str:
    """Seconds as a short reading: "45 s", "12 min", "3 h 05 min", "2 d 4 h"; a dash for none."""
    try:
        total = round(float(str(seconds)))
    except (TypeError, ValueError):
        return "\N{EN DASH}"
    if total < 60:
        return gettext("%(seconds)s s") % {"seconds": total}
    minutes = round(total / 60)
    if minutes < 60:
        return gettext("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return gettext("%(hours)s h %(minutes)s min") % {
            "hours": hours,
            "minutes": f"{minutes:02d}",
        }
    days, hours = divmod(hours, 24)
    return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}


@register.inclusion_tag("inbox/_csat_trend.html")
def csat_trend_chart(trend: list[dict[str, Any]], start: datetime, end: datetime) -> dict:
    """A weekly CSAT line (0-100 %) over faint bars of responses, one slot per week of the
    period; a point only where the week had responses."""
    first = _monday(start)
    weeks = max((_monday(end - timedelta(microseconds=1)) - first).days // 7 + 1, 1)
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    slot = plot_width / weeks

    def x_of(week: date) -> float:
        return round(PLOT_LEFT + ((week - first).days // 7 + 0.5) * slot, 1)

    def y_of(percent: float) -> float:
        return round(PLOT_TOP + (100 - percent) / 100 * plot_height, 1)

    most_responses = max((week["responses"] for week in trend), default=0)
    points, bars = [], []
    for week in trend:
        if week["csat_percent"] is None:
            continue
        x = x_of(week["week"])
        points.append(TrendPoint(week["week"], x, y_of(week["csat_percent"]),
                                 week["csat_percent"], week["responses"]))  # fmt: skip
        height = round(plot_height * 0.45 * week["responses"] / most_responses, 1)
        bar_width = round(min(slot * 0.5, 28), 1)
        bars.append(TrendBar(round(x - bar_width / 2, 1), round(PLOT_TOP + plot_height - height, 1),
                             bar_width, height))  # fmt: skip
    every = max(1, -(-weeks // MAX_WEEK_LABELS))
    labels = [
        (x_of(first + timedelta(weeks=index)), first + timedelta(weeks=index))
        for index in range(0, weeks, every)
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "plot_left": PLOT_LEFT,
        "plot_right": CHART_WIDTH - PLOT_RIGHT,
        "label_y": CHART_HEIGHT - 10,
        "ticks": [(y_of(percent), percent) for percent in PERCENT_TICKS],
        "points": points,
        "bars": bars,
        "polyline": " ".join(f"{point.x},{point.y}" for point in points),
        "labels": labels,
    }
