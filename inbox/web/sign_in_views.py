"""Signing in: the password step (the product's page and the admin's), then the code
step, or setting an authenticator app up where the role requires one."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from inbox.audit.records import AuditActor
from inbox.client_addresses import request_client_address
from inbox.two_factor.devices import (
    device_being_set_up_for,
    qr_code_svg,
    secret_for_typing,
    user_has_two_factor,
)
from inbox.two_factor.services import (
    TwoFactorRefused,
    sign_in_code_check,
    two_factor_enable,
    two_factor_is_required_for,
)
from inbox.two_factor.sign_in import (
    NextStep,
    sign_in_complete,
    sign_in_pending,
    sign_in_pending_start,
)


class PasswordStepView(auth_views.LoginView):
    """Django's sign-in form; a right password signs in at once only where no second
    step is due."""

    template_name = "inbox/login.html"
    redirect_authenticated_user = True
    via = "login"

    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        next_url = self.get_success_url()
        if user_has_two_factor(user):
            next_step = NextStep.CODE
        elif two_factor_is_required_for(user):
            next_step = NextStep.SET_UP
        else:
            sign_in_complete(self.request, user=user, via=self.via)
            return HttpResponseRedirect(next_url)
        sign_in_pending_start(
            self.request, user=user, next_step=next_step, via=self.via, next_url=next_url
        )
        return redirect("sign-in-code" if next_step == NextStep.CODE else "sign-in-set-up")


class AdminPasswordStepView(PasswordStepView):
    """The admin site's sign-in page (its form, for staff), with the same second step."""

    template_name = "admin/login.html"
    authentication_form = AdminAuthenticationForm
    redirect_authenticated_user = False
    via = "admin"

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and admin.site.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=admin.site.name))
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index", current_app=admin.site.name)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            **admin.site.each_context(self.request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": self.request.get_full_path(),
            "username": self.request.user.get_username(),
        }


def _actor(request: HttpRequest, user) -> AuditActor:
    return AuditActor(user=user, address=request_client_address(request))


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    pending = sign_in_pending(request, next_step=NextStep.CODE)
    if pending is None:
        return redirect("login")
    refusal, status = "", 200
    if request.method == "POST":
        check = sign_in_code_check(
            user=pending.user,
            code=request.POST.get("code", ""),
            actor=_actor(request, pending.user),
            via=pending.via,
        )
        if check.is_accepted:
            second_step = "recovery-code" if check.is_recovery_code else "app"
            sign_in_complete(request, user=pending.user, via=pending.via, second_step=second_step)
            return HttpResponseRedirect(pending.next_url)
        refusal, status = check.refusal, 429 if check.is_locked_out else 200
    return render(request, "inbox/sign_in_code.html", {"refusal": refusal}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_set_up(request: HttpRequest) -> HttpResponse:
    """A user whose role requires two steps sets their app up before anything else."""
    pending = sign_in_pending(request, next_step=NextStep.SET_UP)
    if pending is None:
        return redirect("login")
    device = device_being_set_up_for(pending.user)
    refusal = ""
    if request.method == "POST":
        try:
            recovery_codes = two_factor_enable(
                user=pending.user,
                device=device,
                code=request.POST.get("code", ""),
                actor=_actor(request, pending.user),
            )
        except TwoFactorRefused as refused:
            refusal = str(refused)
        else:
            sign_in_complete(request, user=pending.user, via=pending.via, second_step="set-up")
            return render(
                request,
                "inbox/two_factor_recovery_codes.html",
                {"recovery_codes": recovery_codes, "continue_url": pending.next_url},
            )
    return render(
        request,
        "inbox/sign_in_set_up.html",
        {
            "qr_code": qr_code_svg(device),
            "secret": secret_for_typing(device),
            "refusal": refusal,
            "username": pending.user.username,
        },
    )
