"""Who may see what changes in Django admin as well as through the API: these receivers
tell open operator sockets to check their access again (see InboxConsumer)."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from inbox import realtime
from inbox.models import Team, User

# Saves that touch nothing an operator's access depends on.
ACCESS_NEUTRAL_FIELDS = frozenset({"last_login", "password"})


def _user_saved(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    if created or (update_fields and set(update_fields) <= ACCESS_NEUTRAL_FIELDS):
        return
    realtime.access_changed()


def membership_changed(sender, action: str, **kwargs) -> None:
    """Also for other apps' many-to-many fields that decide access (a channel's teams)."""
    if action in ("post_add", "post_remove", "post_clear"):
        realtime.access_changed()


def _removed(sender, **kwargs) -> None:
    realtime.access_changed()


def connect() -> None:
    post_save.connect(_user_saved, sender=User, dispatch_uid="inbox.access.user_saved")
    post_delete.connect(_removed, sender=User, dispatch_uid="inbox.access.user_deleted")
    post_delete.connect(_removed, sender=Team, dispatch_uid="inbox.access.team_deleted")
    m2m_changed.connect(
        membership_changed,
        sender=Team.members.through,
        dispatch_uid="inbox.access.team_members",
    )
