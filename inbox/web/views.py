"""The operator web inbox: parse the query, read through selectors, render.

The first screen is the page's frame and the first page of the list as data, which the
page's scripts render; they then fetch the fragments below (the open conversation, the
counts of the view menu and status tabs, the next page of the list) and write through
the REST API, which calls inbox.services.
"""

import json
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from inbox import selectors
from inbox.models import Conversation, ConversationStatus, Label, Priority, Team, User
from inbox.notifications.settings import notification_settings_of
from inbox.representations import (
    conversation_row_representation,
    label_representation,
    operator_representation,
)
from inbox.selectors.customer_health import customer_health
from inbox.sla.policies import policy_targets
from inbox.web import navigation
from inbox.web import selectors as web_selectors
from inbox.web.customer_health_pane import health_pane_context

# Whole phrases, not a label spliced into "%s priority": word order differs by language.
PRIORITY_MENU = {
    Priority.NONE: _("No priority"),
    Priority.LOW: _("Low priority"),
    Priority.MEDIUM: _("Medium priority"),
    Priority.HIGH: _("High priority"),
    Priority.URGENT: _("Urgent priority"),
}


def _operator(request: HttpRequest) -> User:
    # Every view here requires login, so the user is one of ours, loaded for this request.
    return selectors.request_scoped(cast(User, request.user))


def _timestamp(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def list_item_representation(row: dict[str, Any]) -> dict[str, Any]:
    """A conversation as the list shows it: the API shape plus the preview."""
    return {
        **conversation_row_representation(row),
        "preview": row["preview"],
        "preview_direction": row["preview_direction"],
        "waiting_since": _timestamp(row["waiting_since"]),
    }


def _json_for_script(value: Any) -> str:
    """What Django's json_script filter writes inside the script element, escaped with
    str.replace: its str.translate with multi-character replacements walks the inbox's
    first page of data (~25 KB) one character at a time, ~2 ms."""
    text = json.dumps(value, cls=DjangoJSONEncoder)
    return mark_safe(text.replace("&", "\\u0026").replace("<", "\\u003C").replace(">", "\\u003E"))


def _counts_representation(counts: web_selectors.InboxCounts) -> dict[str, Any]:
    return {"statuses": counts.statuses, "views": counts.views}


def _conversation_context(user: User, row: dict[str, Any]) -> dict[str, Any]:
    """What the conversation's fragment renders: the conversation (its representation and
    the times the header formats), its thread, its customer's profile and timeline."""
    conversation = conversation_row_representation(row)
    thread, has_earlier_messages = web_selectors.conversation_thread_latest(
        conversation_id=row["id"]
    )
    statuses, channel_kinds = dict(ConversationStatus.choices), _channel_kind_labels()
    timeline = web_selectors.customer_timeline(user=user, customer_id=row["customer_id"])
    for past in timeline:
        past["status_label"] = statuses.get(past["status"], past["status"])
        past["channel_kind_label"] = channel_kinds.get(past["channel__kind"], past["channel__kind"])
    customer = web_selectors.customer_profile(customer_id=row["customer_id"])
    return {
        "conversation": conversation,
        # Its text and files were erased (the customer's erasure or the retention period).
        "is_erased": customer.erased_at is not None
        or web_selectors.conversation_is_erased(conversation_id=row["id"]),
        "status_label": statuses.get(row["status"], row["status"]),
        "snoozed_until": row["snoozed_until"],
        "chosen_label_ids": {label["id"] for label in conversation["labels"]},
        "thread": thread,
        "has_earlier_messages": has_earlier_messages,
        "customer": customer,
        "health": health_pane_context(customer_health(customer_id=row["customer_id"])),
        "timeline": timeline,
        "priorities": PRIORITY_MENU.items(),
        "all_labels": list(selectors.label_list()),
        "operator": user,
    }


def _inbox_view(
    request: HttpRequest, user: User, *, labels: list[Label] | None = None
) -> tuple[web_selectors.InboxView, list[Team], list[Any]]:
    teams = web_selectors.inbox_teams_for(user=user)
    channels = web_selectors.inbox_channels_for(user=user)
    if labels is None:
        labels = list(selectors.label_list()) if "label" in request.GET else []
    view = navigation.inbox_view_from(request.GET, teams=teams, channels=channels, labels=labels)
    return view, teams, channels


def _channel_kind_labels() -> dict[str, str]:
    channel_model: Any = Conversation._meta.get_field("channel").related_model
    return {
        str(value): str(label) for value, label in channel_model._meta.get_field("kind").flatchoices
    }


@login_required
@ensure_csrf_cookie
@require_safe
def inbox_page(request: HttpRequest) -> HttpResponse:
    user = _operator(request)
    labels = list(selectors.label_list())
    view, teams, channels = _inbox_view(request, user, labels=labels)
    chosen = request.GET.get("conversation")
    if chosen is not None and not (
        chosen.isdigit()
        and selectors.conversation_is_visible_to(user=user, conversation_id=int(chosen))
    ):
        return render(request, "inbox/not_found.html", status=404)
    page = web_selectors.inbox_conversation_page(user=user, view=view)
    context: dict[str, Any] = {
        "view": view,
        # Their counts, which cost PostgreSQL more than the rest of the page (every
        # conversation still to be worked on is counted), come through inbox_counts.
        "view_links": navigation.view_links(view, teams),
        "status_links": navigation.status_links(view),
        "channels": channels,
        "labels": labels,
        "has_conversations": bool(page.rows),
        "next_cursor": page.next_cursor.encode() if page.next_cursor else "",
        "is_conversation_chosen": chosen is not None,
        "page_data_json": _json_for_script(
            {
                "user": operator_representation(user),
                "notification_settings": notification_settings_of(user),
                "view": {
                    "key": view.key,
                    "name": view.name,
                    "team_id": view.team_id,
                    "status": view.status,
                    "channel_id": view.channel_id,
                    "label_id": view.label_id,
                    # What "select all in this view" acts on.
                    "filter": view.api_filter(),
                },
                "labels": [label_representation(label) for label in labels],
                "query": navigation.view_query(view),
                "items": [list_item_representation(row) for row in page.rows],
                # Opened by the page's script, as any conversation chosen later.
                "conversation_id": int(chosen) if chosen is not None else None,
                "channel_kinds": _channel_kind_labels(),
                "statuses": dict(ConversationStatus.choices),
                "priorities": dict(Priority.choices),
                # For the countdowns: amber when a quarter of a target's time is left.
                "sla": {
                    "targets": policy_targets(),
                    "due_soon_minutes": settings.SLA_DUE_SOON_MINUTES,
                },
            }
        ),
    }
    return render(request, "inbox/inbox.html", context)


@login_required
@require_safe
def inbox_list_fragment(request: HttpRequest) -> JsonResponse:
    """A page of the list as JSON (for "load more", and to catch up after a reconnect)."""
    user = _operator(request)
    view, teams, _ = _inbox_view(request, user)
    cursor = web_selectors.InboxCursor.decode(request.GET.get("after", ""))
    page = web_selectors.inbox_conversation_page(user=user, view=view, after=cursor)
    data: dict[str, Any] = {
        "items": [list_item_representation(row) for row in page.rows],
        "next": page.next_cursor.encode() if page.next_cursor else None,
    }
    if cursor is None:
        counts = web_selectors.inbox_counts(user=user, view=view, teams=teams)
        data["counts"] = _counts_representation(counts)
    return JsonResponse(data)


@login_required
@require_safe
def inbox_counts(request: HttpRequest) -> JsonResponse:
    user = _operator(request)
    view, teams, _ = _inbox_view(request, user)
    counts = web_selectors.inbox_counts(user=user, view=view, teams=teams)
    return JsonResponse(_counts_representation(counts))


@login_required
@require_safe
def conversation_pane_fragment(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """The header, thread and customer profile of one conversation, rendered."""
    user = _operator(request)
    try:
        row = selectors.conversation_row_for_user(user=user, conversation_id=conversation_id)
    except Conversation.DoesNotExist:
        return JsonResponse({"error": "not_found", "detail": "No such conversation."}, status=404)
    context = _conversation_context(user, row)
    return JsonResponse(
        {
            "conversation": context["conversation"],
            "header_html": render_to_string("inbox/_conversation_header.html", context, request),
            "thread_html": render_to_string("inbox/_thread.html", context, request),
            "profile_html": render_to_string("inbox/_customer_profile.html", context, request),
        }
    )


SEARCH_QUERY_MAX_LENGTH = 200


@login_required
@require_safe
def inbox_search_fragment(request: HttpRequest) -> JsonResponse:
    """Conversations (in any status) whose customer or messages match `q`, with snippets."""
    user = _operator(request)
    query = request.GET.get("q", "").strip()[:SEARCH_QUERY_MAX_LENGTH]
    rows = web_selectors.conversation_search_for_user(user=user, query=query)
    return JsonResponse(
        {
            "query": query,
            "items": [{**list_item_representation(row), "snippet": row["snippet"]} for row in rows],
        }
    )


@login_required
@require_safe
def inbox_presence(request: HttpRequest) -> JsonResponse:
    """Who is online or away now, for the header (live changes then arrive as events)."""
    return JsonResponse({"operators": selectors.operator_presence_list()})
