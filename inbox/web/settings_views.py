"""The settings page: the operator's own language and time zone, labels (supervisors and
admins change them) and canned replies.

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
from inbox.models import User


@login_required
@ensure_csrf_cookie
@require_safe
def settings_page(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    return render(
        request,
        "inbox/settings.html",
        {
            "labels": selectors.label_list(),
            "canned_responses": selectors.canned_response_list(),
            "can_edit_labels": user.sees_all_conversations,
            "languages": settings.LANGUAGES,
            "time_zones": sorted(zoneinfo.available_timezones()),
        },
    )
