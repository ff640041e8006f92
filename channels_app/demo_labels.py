"""The demo's labels: a few to sort conversations by, some already on conversations, so
that the list's label filter, the header's Labels menu and the bulk bar's "Add a label"
have something to show."""

from inbox import labels as label_services
from inbox.models import Conversation, Label

DEMO_LABELS = (("Refund", "#dc2626"), ("VIP", "#7c3aed"), ("Delivery", "#0891b2"))


def seed_labels() -> None:
    for name, color in DEMO_LABELS:
        if not Label.objects.filter(name=name).exists():
            label_services.label_create(name=name, color=color)
    delivery = Label.objects.get(name="Delivery")
    # The two oldest open conversations, once: an operator may have changed them since.
    for conversation in Conversation.objects.filter(status="open").order_by("id")[:2]:
        if not conversation.labels.exists():
            label_services.conversation_labels_set(conversation=conversation, labels=[delivery])
