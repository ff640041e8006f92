"""Macros: who sees and changes them, and applying one to a conversation.

A macro is applied as the operator who chose it: the note and the reply are theirs, an
assignment, a label or a resolve names them in the thread, and each action shows live as
if done by hand, so the rules watching those events run as they would. The actions run
in order, each on its own: one that does not fit (the conversation is already resolved,
a label since deleted) is reported and the others still run, as in a rule.
"""

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from automation.actions import NOBODY_WITH_ROOM, action_do, check_actions
from automation.conditions import RuleInvalid
from automation.models import Macro
from inbox.labels import LabelInvalid
from inbox.models import Conversation, User
from inbox.services import ConversationActionInvalid

NAME_LIMIT = 100


class MacroNotYours(Exception):
    """Only supervisors and admins share macros or change shared ones."""


def macros_for(*, user: User) -> QuerySet[Macro]:
    """The shared macros and the user's own, by name."""
    return Macro.objects.filter(Q(is_shared=True) | Q(owner=user)).order_by("name", "id")


def macro_may_change(*, user: User, macro: Macro) -> bool:
    if macro.is_shared:
        return user.sees_all_conversations
    return macro.owner_id == user.pk


def macro_create(*, fields: dict[str, Any], owner: User) -> Macro:
    macro = Macro(owner=owner)
    _fields_apply(macro, fields, user=owner, is_new=True)
    macro.save()
    return macro


def macro_update(*, macro: Macro, fields: dict[str, Any], user: User) -> Macro:
    if not macro_may_change(user=user, macro=macro):
        raise MacroNotYours(gettext("Only supervisors and admins change shared macros."))
    _fields_apply(macro, fields, user=user, is_new=False)
    macro.save()
    return macro


def macro_delete(*, macro: Macro, user: User) -> None:
    if not macro_may_change(user=user, macro=macro):
        raise MacroNotYours(gettext("Only supervisors and admins change shared macros."))
    macro.delete()


def macro_apply(*, macro: Macro, conversation: Conversation, operator: User) -> list[dict]:
    """Each action's outcome, in order: `{"type", "ok": true}` or `{"type", "error"}` with
    the reason in the operator's language."""
    outcomes = []
    for action in macro.actions:
        try:
            with transaction.atomic():
                done = action_do(action, conversation, actor=operator)
            if done == NOBODY_WITH_ROOM:
                # A rule may leave it to the queue; an operator who asked should know.
                message = gettext("nobody in the team is online with room; it waits in the queue")
                outcomes.append({"type": action["type"], "error": message})
            else:
                outcomes.append({"type": action["type"], "ok": True})
        except (ConversationActionInvalid, LabelInvalid) as error:
            outcomes.append({"type": action["type"], "error": str(error)})
        except LookupError:
            outcomes.append(
                {"type": action["type"], "error": gettext("what the action names has been deleted")}
            )
    return outcomes


def _fields_apply(macro: Macro, fields: dict[str, Any], *, user: User, is_new: bool) -> None:
    """Checks and sets the fields given (RuleInvalid says what is wrong)."""
    if "name" in fields or is_new:
        name = fields.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_LIMIT:
            raise RuleInvalid(
                gettext("name must be a text of 1 to %(limit)s characters") % {"limit": NAME_LIMIT}
            )
        macro.name = name.strip()
    if "actions" in fields or is_new:
        macro.actions = check_actions(fields.get("actions"))
    if "is_shared" in fields:
        if not isinstance(fields["is_shared"], bool):
            raise RuleInvalid(gettext("is_shared must be true or false"))
        if fields["is_shared"] != macro.is_shared and not user.sees_all_conversations:
            raise MacroNotYours(gettext("Only supervisors and admins share macros."))
        macro.is_shared = fields["is_shared"]
