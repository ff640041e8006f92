"""Labels: names with a colour that operators put on conversations to sort and find them."""

import re
from collections.abc import Collection, Sequence

from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext, ngettext

from inbox import realtime
from inbox.events import conversation_event_record
from inbox.models import Conversation, ConversationEventKind, Label, User
from inbox.outgoing_webhooks.emitting import conversation_event_emit

COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_LABELS_PER_CONVERSATION = 20


class LabelInvalid(ValueError):
    """A label's name or colour is not acceptable; the message says why."""


def _exists(name: str) -> str:
    return gettext("a label named %(name)s exists already") % {"name": repr(name)}


def _clean(name: str, color: str | None) -> tuple[str, str | None]:
    name = " ".join(str(name).split())
    if not name:
        raise LabelInvalid(gettext("a label needs a name"))
    if len(name) > 50:
        raise LabelInvalid(gettext("a label's name is at most 50 characters"))
    if color is not None and not COLOR_PATTERN.match(color):
        raise LabelInvalid(gettext("colour must look like #1a2b3c"))
    return name, color.lower() if color else color


def label_create(*, name: str, color: str | None = None) -> Label:
    name, color = _clean(name, color)
    if Label.objects.filter(name__iexact=name).exists():
        raise LabelInvalid(_exists(name))
    try:
        with transaction.atomic():
            return Label.objects.create(name=name, **({"color": color} if color else {}))
    except IntegrityError as error:
        raise LabelInvalid(_exists(name)) from error


def label_update(*, label: Label, name: str | None = None, color: str | None = None) -> Label:
    new_name, new_color = _clean(name if name is not None else label.name, color)
    if Label.objects.filter(name__iexact=new_name).exclude(pk=label.pk).exists():
        raise LabelInvalid(_exists(new_name))
    label.name = new_name
    if new_color:
        label.color = new_color
    label.save(update_fields=["name", "color"])
    return label


def label_delete(*, label: Label) -> None:
    """Remove the label everywhere; the conversations keep everything else."""
    label.delete()


def conversation_labels_set(
    *, conversation: Conversation, labels: Sequence[Label], actor: User | None = None
) -> Conversation:
    """Put exactly these labels on the conversation; the change shows in its thread."""
    if len(labels) > MAX_LABELS_PER_CONVERSATION:
        raise LabelInvalid(
            ngettext(
                "at most %(count)s label on a conversation",
                "at most %(count)s labels on a conversation",
                MAX_LABELS_PER_CONVERSATION,
            )
            % {"count": MAX_LABELS_PER_CONVERSATION}
        )
    with transaction.atomic():
        current = {label.pk: label for label in conversation.labels.all()}
        wanted = {label.pk: label for label in labels}
        added = [wanted[pk] for pk in wanted if pk not in current]
        removed = [current[pk] for pk in current if pk not in wanted]
        if not added and not removed:
            return conversation
        conversation.labels.set(list(wanted.values()))
        conversation.save(update_fields=["updated_at"])
        # Setting them dropped any labels loaded with it: load the new ones once, for
        # the event and for whoever renders the conversation next.
        prefetch_related_objects([conversation], "labels")
        conversation_event_record(
            conversation=conversation,
            kind=ConversationEventKind.LABELS_CHANGED,
            actor=actor,
            added=sorted(label.name for label in added),
            removed=sorted(label.name for label in removed),
        )
        realtime.conversation_changed(conversation)
        conversation_event_emit(conversation)
    return conversation


def conversation_labels_add(
    *, conversation: Conversation, labels: Sequence[Label], actor: User | None = None
) -> Conversation:
    """Add these labels to those the conversation has."""
    current = list(conversation.labels.all())
    current_ids = {label.pk for label in current}
    added = [label for label in labels if label.pk not in current_ids]
    return conversation_labels_set(
        conversation=conversation, labels=[*current, *added], actor=actor
    )


def conversation_labels_remove(
    *, conversation: Conversation, label_ids: Collection[int], actor: User | None = None
) -> Conversation:
    """Take these labels off the conversation; it keeps the others."""
    kept = [label for label in conversation.labels.all() if label.pk not in label_ids]
    return conversation_labels_set(conversation=conversation, labels=kept, actor=actor)
