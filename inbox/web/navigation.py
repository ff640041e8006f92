"""The inbox's query string: which view, status, channel and label a page shows, and the links
of its view menu and status tabs."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext_lazy

from inbox.models import ConversationStatus, Label, Team
from inbox.web.selectors import InboxCounts, InboxView

FIXED_VIEWS = (
    ("mine", gettext_lazy("Mine")),
    ("unassigned", gettext_lazy("Unassigned")),
    ("all", gettext_lazy("All")),
)
# Conversations by their SLA: a target missed, or one due within SLA_DUE_SOON_MINUTES.
SLA_VIEWS = (
    ("breached", gettext_lazy("Breached")),
    ("due_soon", gettext_lazy("Due soon")),
)
DEFAULT_VIEW = "all"


@dataclass(frozen=True)
class NavigationLink:
    key: str
    label: str
    url: str
    count: int | None
    is_current: bool


def _integer(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def inbox_view_from(
    params: QueryDict,
    *,
    teams: Sequence[Team],
    channels: Sequence[Any],
    labels: Sequence[Label] = (),
) -> InboxView:
    """Read the view from the query string; anything unknown falls back to the default."""
    key = params.get("view", DEFAULT_VIEW)
    name, team_id = DEFAULT_VIEW, None
    if key in dict(FIXED_VIEWS) or key in dict(SLA_VIEWS):
        name = key
    elif key.startswith("team-"):
        team_id = _integer(key.removeprefix("team-"))
        if team_id in {team.pk for team in teams}:
            name = "team"
        else:
            team_id = None
    status = params.get("status", ConversationStatus.OPEN)
    if status not in ConversationStatus.values:
        status = ConversationStatus.OPEN
    channel_id = _integer(params.get("channel"))
    if channel_id not in {channel.pk for channel in channels}:
        channel_id = None
    label_id = _integer(params.get("label"))
    if label_id not in {label.pk for label in labels}:
        label_id = None
    return InboxView(
        name=name, team_id=team_id, status=status, channel_id=channel_id, label_id=label_id
    )


def view_query(inbox_view: InboxView, **changes: Any) -> str:
    values: dict[str, Any] = {
        "view": inbox_view.key,
        "status": inbox_view.status,
        "channel": inbox_view.channel_id,
        "label": inbox_view.label_id,
    }
    values.update(changes)
    return urlencode({key: value for key, value in values.items() if value is not None})


def view_links(
    view: InboxView, teams: Sequence[Team], counts: InboxCounts | None = None
) -> list[NavigationLink]:
    """The view menu; without counts (the page's script fetches them) each count is None."""
    choices = [*FIXED_VIEWS, *((f"team-{team.pk}", team.name) for team in teams), *SLA_VIEWS]
    return [
        NavigationLink(
            key=key,
            label=str(label),
            url="?" + view_query(view, view=key),
            count=counts.views.get(key) if counts else None,
            is_current=key == view.key,
        )
        for key, label in choices
    ]


def status_links(view: InboxView, counts: InboxCounts | None = None) -> list[NavigationLink]:
    """The status tabs; without counts (the page's script fetches them) each count is None."""
    return [
        NavigationLink(
            key=status,
            label=str(label),
            url="?" + view_query(view, status=status),
            count=counts.statuses.get(status) if counts else None,
            is_current=status == view.status,
        )
        for status, label in ConversationStatus.choices
    ]
