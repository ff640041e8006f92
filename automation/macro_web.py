"""The macros page (every operator): their own macros and the shared ones, one chosen to
edit (or a new one), as plain forms that post back here and call the same services as the
API. Another's personal macro is not found; a shared one is read-only to operators."""

import json
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from automation import macros
from automation.actions import ACTION_TYPES
from automation.conditions import RuleInvalid
from automation.models import Macro
from automation.web import json_of_form
from inbox.models import User

NEW_MACRO_ACTIONS = '[{"type": "add_note", "body": ""}]'


@login_required
@require_http_methods(["GET", "POST"])
def macros_page(request: HttpRequest, macro_id: int | None = None) -> HttpResponse:
    user = cast(User, request.user)
    chosen = _visible_macro(user, macro_id) if macro_id else None
    may_change = chosen is None or macros.macro_may_change(user=user, macro=chosen)
    form = _form_values(chosen)
    error = ""
    if request.method == "POST":
        form = {
            "name": request.POST.get("name", ""),
            "actions": request.POST.get("actions", ""),
            "is_shared": "is_shared" in request.POST,
        }
        try:
            chosen = _saved(user, chosen, form)
        except (RuleInvalid, macros.MacroNotYours) as invalid:
            error = str(invalid)
        else:
            messages.success(request, gettext("Macro saved."))
            return redirect("macro", macro_id=chosen.pk)
    return render(
        request,
        "automation/macros.html",
        {
            "macros": list(macros.macros_for(user=user)),
            "chosen": chosen,
            "form": form,
            "error": error,
            "may_change": may_change,
            "may_share": user.sees_all_conversations,
            "action_types": ACTION_TYPES,
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def macro_delete(request: HttpRequest, macro_id: int) -> HttpResponse:
    user = cast(User, request.user)
    try:
        macros.macro_delete(macro=_visible_macro(user, macro_id), user=user)
    except macros.MacroNotYours as refused:
        messages.error(request, str(refused))
        return redirect("macro", macro_id=macro_id)
    messages.success(request, gettext("Macro deleted."))
    return redirect("macros")


def _visible_macro(user: User, macro_id: int) -> Macro:
    macro = macros.macros_for(user=user).filter(pk=macro_id).first()
    if macro is None:
        raise Http404
    return macro


def _saved(user: User, macro: Macro | None, form: dict[str, Any]) -> Macro:
    actions = json_of_form(form["actions"], gettext("Actions"))
    fields: dict[str, Any] = {"name": form["name"], "actions": actions}
    if user.sees_all_conversations:
        fields["is_shared"] = form["is_shared"]
    if macro is None:
        return macros.macro_create(fields=fields, owner=user)
    return macros.macro_update(macro=macro, fields=fields, user=user)


def _form_values(macro: Macro | None) -> dict[str, Any]:
    if macro is None:
        return {"name": "", "actions": NEW_MACRO_ACTIONS, "is_shared": False}
    return {
        "name": macro.name,
        "actions": json.dumps(macro.actions, ensure_ascii=False, indent=2),
        "is_shared": macro.is_shared,
    }
