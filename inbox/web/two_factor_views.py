"""The operator's own two-step sign-in, under Settings: set an authenticator app up,
make new recovery codes, turn it off."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from inbox.audit.records import audit_actor
from inbox.models import User
from inbox.two_factor.devices import (
    device_being_set_up_for,
    qr_code_svg,
    secret_for_typing,
    user_has_two_factor,
)
from inbox.two_factor.recovery_codes import recovery_codes_remaining
from inbox.two_factor.services import (
    TwoFactorRefused,
    recovery_codes_renew,
    two_factor_disable,
    two_factor_enable,
    two_factor_is_required_for,
)
from inbox.two_factor.sign_in import session_second_step_passed


def _recovery_codes_page(request: HttpRequest, recovery_codes: list[str]) -> HttpResponse:
    return render(
        request,
        "inbox/two_factor_recovery_codes.html",
        {"recovery_codes": recovery_codes, "continue_url": reverse("two-factor-settings")},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_settings(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    is_enabled = user_has_two_factor(user)
    context: dict = {
        "is_enabled": is_enabled,
        "is_required": two_factor_is_required_for(user),
        "refusal": "",
    }
    if is_enabled:
        context["recovery_codes_remaining"] = recovery_codes_remaining(user=user)
        return render(request, "inbox/two_factor_settings.html", context)
    device = device_being_set_up_for(user)
    if request.method == "POST":
        try:
            recovery_codes = two_factor_enable(
                user=user,
                device=device,
                code=request.POST.get("code", ""),
                actor=audit_actor(request),
            )
        except TwoFactorRefused as refused:
            context["refusal"] = str(refused)
        else:
            # The code just typed is this session's second step.
            session_second_step_passed(request)
            return _recovery_codes_page(request, recovery_codes)
    context.update({"qr_code": qr_code_svg(device), "secret": secret_for_typing(device)})
    return render(request, "inbox/two_factor_settings.html", context)


@login_required
@require_POST
def two_factor_turn_off(request: HttpRequest) -> HttpResponse:
    try:
        two_factor_disable(
            user=cast(User, request.user),
            actor=audit_actor(request),
            code=request.POST.get("code", ""),
            password=request.POST.get("password", ""),
        )
    except TwoFactorRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Two-step sign-in is off."))
    return redirect("two-factor-settings")


@never_cache
@login_required
@require_POST
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    try:
        recovery_codes = recovery_codes_renew(
            user=cast(User, request.user),
            code=request.POST.get("code", ""),
            actor=audit_actor(request),
        )
    except TwoFactorRefused as refused:
        messages.error(request, str(refused))
        return redirect("two-factor-settings")
    return _recovery_codes_page(request, recovery_codes)
