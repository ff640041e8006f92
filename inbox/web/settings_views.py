"""The settings page: the operator's own language and time zone, labels (supervisors and
admins change them), canned replies and, for admins, the follow-ups of low scores and
outgoing webhooks.

It renders what exists; the page's script writes through the REST API, like the inbox.
"""

import zoneinfo
from typing import cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from inbox import selectors
from inbox.canned_responses import (
    canned_response_list_for,
    canned_response_may_change,
    user_may_share_canned_responses,
)
from inbox.follow_ups.models import FollowUpAction, FollowUpAssignment
from inbox.follow_ups.settings import follow_up_settings_get
from inbox.models import Team, User
from inbox.outgoing_webhooks.emitting import EVENTS
from inbox.outgoing_webhooks.selectors import webhook_subscriptions_with_recent_deliveries
from inbox.two_factor.devices import user_has_two_factor


@login_required
@ensure_csrf_cookie
@require_safe
def settings_page(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    canned_responses = list(canned_response_list_for(user=user))
    for canned_response in canned_responses:
        canned_response.can_edit = canned_response_may_change(  # type: ignore[attr-defined]
            user=user, canned_response=canned_response
        )
    return render(
        request,
        "inbox/settings.html",
        {
            "labels": selectors.label_list(),
            "canned_responses": canned_responses,
            "can_share_canned_responses": user_may_share_canned_responses(user),
            "can_edit_labels": user.sees_all_conversations,
            "languages": settings.LANGUAGES,
            "time_zones": sorted(zoneinfo.available_timezones()),
            "two_factor_enabled": user_has_two_factor(user),
            **_follow_up_context(user),
            "webhooks": webhook_subscriptions_with_recent_deliveries() if user.is_admin else None,
            "webhook_events": EVENTS,
        },
    )


def _follow_up_context(user: User) -> dict:
    """The follow-up section, for admins only (they change it through the API)."""
    if not user.is_admin:
        return {}
    return {
        "follow_up_settings": follow_up_settings_get(),
        "follow_up_actions": FollowUpAction.choices,
        "follow_up_assignments": FollowUpAssignment.choices,
        "teams": Team.objects.order_by("name"),
    }
