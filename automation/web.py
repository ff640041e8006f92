"""The admins' page of automation rules: the list (switch on and off, move up and down),
one rule's form with its run log, and a trial on past conversations. Plain forms that
post back here and call the same services as the API."""

import json
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from automation import dry_run, rules
from automation.actions import ACTION_TYPES
from automation.conditions import RuleInvalid
from automation.models import AutomationRule
from automation.selectors import rule_runs_recent
from inbox.models import User
from inbox.rule_events import Trigger


def _admin_only(request: HttpRequest) -> None:
    if not cast(User, request.user).is_admin:
        raise Http404


@login_required
@require_http_methods(["GET"])
def rules_page(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    return render(request, "automation/rules.html", {"rules": list(AutomationRule.objects.all())})


@login_required
@require_http_methods(["GET", "POST"])
def rule_page(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    _admin_only(request)
    rule = get_object_or_404(AutomationRule, pk=rule_id) if rule_id else None
    form = _form_values(rule)
    error = ""
    if request.method == "POST":
        form = {key: request.POST.get(key, "") for key in form}
        form["is_active"] = "is_active" in request.POST
        try:
            fields = _fields_from(form)
            if rule is None:
                rule = rules.rule_create(fields=fields, created_by=cast(User, request.user))
            else:
                rules.rule_update(rule=rule, fields=fields)
        except RuleInvalid as invalid:
            error = str(invalid)
        else:
            messages.success(request, gettext("Rule saved."))
            return redirect("automation-rule", rule_id=rule.pk)
    return _rule_page_render(request, rule, form=form, error=error)


@login_required
@require_POST
def rule_try_page(request: HttpRequest, rule_id: int) -> HttpResponse:
    _admin_only(request)
    rule = get_object_or_404(AutomationRule, pk=rule_id)
    return _rule_page_render(
        request, rule, form=_form_values(rule), trial=dry_run.rule_try(rule=rule)
    )


def _rule_page_render(
    request: HttpRequest,
    rule: AutomationRule | None,
    *,
    form: dict[str, Any],
    error: str = "",
    trial: dry_run.TryOutcome | None = None,
) -> HttpResponse:
    return render(
        request,
        "automation/rule.html",
        {
            "rule": rule,
            "form": form,
            "error": error,
            "triggers": Trigger.choices,
            "action_types": ACTION_TYPES,
            "runs": list(rule_runs_recent(rule=rule)) if rule else [],
            "trial": trial,
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def rule_switch(request: HttpRequest, rule_id: int) -> HttpResponse:
    _admin_only(request)
    rule = get_object_or_404(AutomationRule, pk=rule_id)
    rules.rule_update(rule=rule, fields={"is_active": not rule.is_active})
    return redirect("automation-rules")


@login_required
@require_POST
def rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    _admin_only(request)
    rules.rule_move(rule_id=rule_id, is_up=request.POST.get("direction") == "up")
    return redirect("automation-rules")


@login_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    _admin_only(request)
    rules.rule_delete(rule=get_object_or_404(AutomationRule, pk=rule_id))
    return redirect("automation-rules")


def _form_values(rule: AutomationRule | None) -> dict[str, Any]:
    if rule is None:
        return {
            "name": "",
            "trigger": Trigger.CONVERSATION_CREATED,
            "wait_minutes": "",
            "conditions": "{}",
            "actions": '[{"type": "add_note", "body": ""}]',
            "is_active": False,
        }
    return {
        "name": rule.name,
        "trigger": rule.trigger,
        "wait_minutes": "" if rule.wait_minutes is None else str(rule.wait_minutes),
        "conditions": json.dumps(rule.conditions, ensure_ascii=False, indent=2),
        "actions": json.dumps(rule.actions, ensure_ascii=False, indent=2),
        "is_active": rule.is_active,
    }


def _fields_from(form: dict[str, Any]) -> dict[str, Any]:
    wait = form["wait_minutes"].strip()
    if wait and not wait.isdigit():
        raise RuleInvalid(gettext("wait_minutes must be a whole number"))
    return {
        "name": form["name"],
        "trigger": form["trigger"],
        "wait_minutes": int(wait) if wait else None,
        "conditions": json_of_form(form["conditions"] or "{}", gettext("Conditions")),
        "actions": json_of_form(form["actions"], gettext("Actions")),
        "is_active": form["is_active"],
    }


def json_of_form(text: str, name: str) -> Any:
    """The JSON a form's textarea holds; RuleInvalid says what is wrong with it."""
    try:
        return json.loads(text)
    except ValueError as error:
        raise RuleInvalid(
            gettext("%(name)s are not valid JSON: %(error)s") % {"name": name, "error": error}
        ) from error
