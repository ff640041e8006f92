"""Who sees and who changes canned replies.

Shared replies are offered to everyone and changed only by supervisors and admins, so no
operator can rewrite what the whole team sends (a link in `/refund`, say). Personal
replies belong to the user who made them: no one else sees them, or changes them.
"""

import re

from django.db.models import Q, QuerySet

from customers.models import Customer
from inbox.models import CannedResponse, User

_PLACEHOLDER = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def user_may_share_canned_responses(user: User) -> bool:
    return user.sees_all_conversations


def canned_response_list_for(*, user: User) -> QuerySet[CannedResponse]:
    """The shared replies and the user's own, by shortcut."""
    return CannedResponse.objects.filter(Q(is_shared=True) | Q(created_by=user)).order_by(
        "shortcut", "-is_shared"
    )


def canned_response_may_change(*, user: User, canned_response: CannedResponse) -> bool:
    if canned_response.is_shared:
        return user_may_share_canned_responses(user)
    return canned_response.created_by_id == user.pk


def canned_response_shortcut_taken(
    *, shortcut: str, is_shared: bool, owner: User, excluding_id: int | None = None
) -> bool:
    """Shortcuts are unique among shared replies, and among each user's own."""
    others = CannedResponse.objects.filter(shortcut=shortcut, is_shared=is_shared)
    if not is_shared:
        others = others.filter(created_by=owner)
    if excluding_id is not None:
        others = others.exclude(pk=excluding_id)
    return others.exists()


def canned_body_filled(body: str, *, customer: Customer, operator: User | None) -> str:
    """The body with {{customer.name}}, {{customer.first_name}} and {{operator.name}}
    filled, as the reply box fills them (a rule, sending as no one, leaves the operator's
    name empty); other placeholders stay as written."""
    name = (customer.name or "").strip()
    values = {
        "customer.name": name,
        "customer.first_name": name.split()[0] if name else "",
        "operator.name": operator.display_name if operator is not None else "",
    }
    return _PLACEHOLDER.sub(lambda found: values.get(found[1], found[0]), body)
