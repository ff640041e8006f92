"""The operator web inbox: parse the query, read through selectors, render.

The first screen (list and selected conversation) is rendered here. The page's scripts
then fetch the fragments below (the next page of the list, another conversation, fresh
counts) and write through the REST API, which calls inbox.services.
"""

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from inbox import selectors
from inbox.models import Conversation, ConversationStatus, Label, Priority, Team, User
from inbox.representations import (
    conversation_representation,
    label_representation,
    operator_representation,
)
from inbox.web import navigation


def _operator(request: HttpRequest) -> User:
    # Every view here requires login, so the user is one of ours.
    return cast(User, request.user)


def _timestamp(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def list_item_representation(conversation: Conversation) -> dict[str, Any]:
    """A conversation as the list shows it: the API shape plus the annotated preview."""
    return {
        **conversation_representation(conversation),
        "preview": getattr(conversation, "preview", None),
        "preview_direction": getattr(conversation, "preview_direction", None),
        "waiting_since": _timestamp(getattr(conversation, "waiting_since", None)),
    }


def _counts_representation(counts: selectors.InboxCounts) -> dict[str, Any]:
    return {"statuses": counts.statuses, "views": counts.views}


def _visible_conversation(user: User, conversation_id: str) -> Conversation | None:
    if not conversation_id.isdigit():
        return None
    try:
        return selectors.conversation_get_for_user(user=user, conversation_id=int(conversation_id))
    except Conversation.DoesNotExist:
        return None


def _conversation_context(
    user: User, conversation: Conversation, *, labels: list[Label] | None = None
) -> dict[str, Any]:
    thread, has_earlier_messages = selectors.conversation_thread_latest(conversation=conversation)
    return {
        "conversation": conversation,
        "thread": thread,
        "has_earlier_messages": has_earlier_messages,
        "customer": selectors.customer_profile_with_latest_merge(conversation=conversation),
        "timeline": selectors.customer_timeline_with_previews(
            user=user, customer_id=conversation.customer_id
        ),
        "priorities": Priority.choices,
        "all_labels": list(selectors.label_list()) if labels is None else labels,
        "operator": user,
    }


def _inbox_view(
    request: HttpRequest, user: User
) -> tuple[selectors.InboxView, list[Team], list[Any]]:
    teams = selectors.inbox_teams_for(user=user)
    channels = selectors.inbox_channels_for(user=user)
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
    view, teams, channels = _inbox_view(request, user)
    labels = list(selectors.label_list())
    page = selectors.inbox_conversation_page(user=user, view=view)
    counts = selectors.inbox_counts(user=user, view=view, teams=teams)

    is_conversation_chosen = "conversation" in request.GET
    selected: Conversation | None = page.conversations[0] if page.conversations else None
    if is_conversation_chosen:
        selected = _visible_conversation(user, request.GET["conversation"])
        if selected is None:
            return render(request, "inbox/not_found.html", status=404)

    context: dict[str, Any] = {
        "view": view,
        "view_query": navigation.view_query(view),
        "view_links": navigation.view_links(view, teams, counts),
        "status_links": navigation.status_links(view, counts),
        "channels": channels,
        "labels": labels,
        "conversations": page.conversations,
        "next_cursor": page.next_cursor.encode() if page.next_cursor else "",
        "selected_id": selected.pk if selected else None,
        "is_conversation_chosen": is_conversation_chosen,
        "page_data": {
            "user": operator_representation(user),
            "view": {
                "key": view.key,
                "name": view.name,
                "team_id": view.team_id,
                "status": view.status,
                "channel_id": view.channel_id,
                "label_id": view.label_id,
            },
            "labels": [label_representation(label) for label in labels],
            "query": navigation.view_query(view),
            "items": [list_item_representation(c) for c in page.conversations],
            "conversation": conversation_representation(selected) if selected else None,
            "channel_kinds": _channel_kind_labels(),
            "statuses": dict(ConversationStatus.choices),
            "priorities": dict(Priority.choices),
        },
    }
    if selected is not None:
        context.update(_conversation_context(user, selected, labels=labels))
    return render(request, "inbox/inbox.html", context)


@login_required
@require_safe
def inbox_list_fragment(request: HttpRequest) -> JsonResponse:
    """A page of the list as JSON (for "load more", and to catch up after a reconnect)."""
    user = _operator(request)
    view, teams, _ = _inbox_view(request, user)
    cursor = selectors.InboxCursor.decode(request.GET.get("after", ""))
    page = selectors.inbox_conversation_page(user=user, view=view, after=cursor)
    data: dict[str, Any] = {
        "items": [list_item_representation(c) for c in page.conversations],
        "next": page.next_cursor.encode() if page.next_cursor else None,
    }
    if cursor is None:
        counts = selectors.inbox_counts(user=user, view=view, teams=teams)
        data["counts"] = _counts_representation(counts)
    return JsonResponse(data)


@login_required
@require_safe
def inbox_counts(request: HttpRequest) -> JsonResponse:
    user = _operator(request)
    view, teams, _ = _inbox_view(request, user)
    counts = selectors.inbox_counts(user=user, view=view, teams=teams)
    return JsonResponse(_counts_representation(counts))


@login_required
@require_safe
def conversation_pane_fragment(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """The header, thread and customer profile of one conversation, rendered."""
    user = _operator(request)
    conversation = _visible_conversation(user, str(conversation_id))
    if conversation is None:
        return JsonResponse({"error": "not_found", "detail": "No such conversation."}, status=404)
    context = _conversation_context(user, conversation)
    return JsonResponse(
        {
            "conversation": conversation_representation(conversation),
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
    conversations = selectors.conversation_search_for_user(user=user, query=query)
    return JsonResponse(
        {
            "query": query,
            "items": [
                {**list_item_representation(c), "snippet": getattr(c, "snippet", None)}
                for c in conversations
            ],
        }
    )


@login_required
@require_safe
def inbox_presence(request: HttpRequest) -> JsonResponse:
    """Who is online or away now, for the header (live changes then arrive as events)."""
    return JsonResponse({"operators": selectors.operator_presence_list()})
