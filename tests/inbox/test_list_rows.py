"""Lists read rows rather than models: what they answer must equal the model's own shape."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from customers.models import IdentityClaim
from inbox.api.customer_serializers import CustomerOutputSerializer
from inbox.models import Attachment, Conversation, ConversationStatus, Message
from inbox.representations import conversation_representation, message_representation
from tests.factories import (
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    LabelFactory,
    MessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = "https://desk.example.com"


def loaded(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related(
        "customer", "channel", "assignee", "team", "resolved_by"
    ).get(pk=conversation.pk)


@pytest.fixture
def busy_conversation(channel, team):
    """A conversation with every relation set: named and unnamed operators, a team, labels."""
    conversation = ConversationFactory(
        channel=channel,
        assignee=UserFactory(first_name="Anna", last_name="Ivanova", teams=[team]),
        team=team,
        resolved_by=UserFactory(username="night-shift", first_name="", last_name=""),
        status=ConversationStatus.SNOOZED,
        snoozed_until=timezone.now() + timedelta(hours=3),
        first_response_at=timezone.now(),
        subject="Refund",
    )
    conversation.labels.add(LabelFactory(name="vip", color="#ff0000"), LabelFactory(name="bug"))
    return conversation


def test_a_listed_conversation_reads_as_the_conversation_itself(
    operator_client, channel, busy_conversation
):
    bare = ConversationFactory(channel=channel, last_message_at=None)

    listed = {
        item["id"]: item for item in operator_client.get("/api/v1/conversations/").json()["results"]
    }

    for conversation in (busy_conversation, bare):
        expected = conversation_representation(loaded(conversation))
        assert listed[conversation.pk] == expected
        detail = operator_client.get(f"/api/v1/conversations/{conversation.pk}/")
        assert detail.json() == expected
    assert [label["name"] for label in listed[busy_conversation.pk]["labels"]] == ["bug", "vip"]
    assert listed[busy_conversation.pk]["assignee"]["name"] == "Anna Ivanova"
    assert listed[busy_conversation.pk]["resolved_by"]["name"] == "night-shift"


def test_a_listed_message_reads_as_the_message_itself(operator_client, operator, channel):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation, body="Hi")
    email = MessageFactory(
        conversation=conversation,
        body="See the photo",
        body_full="See the photo\n> earlier text",
        body_html='<p>See</p><img src="cid:photo-1">',
    )
    Attachment.objects.create(
        message=email,
        filename="photo.png",
        content_type="image/png",
        size=4,
        content_id="photo-1",
        file=ContentFile(b"\x89PNG", name="photo.png"),
    )
    Attachment.objects.create(
        message=email, filename="terms.pdf", remote_url="https://cdn.example.com/terms.pdf"
    )
    MessageFactory(
        conversation=conversation,
        direction="out",
        author=operator,
        status="failed",
        error={"code": "recipient_unreachable", "platform": "Telegram", "detail": "blocked"},
        is_private=False,
        sent_at=timezone.now(),
        edited_at=timezone.now(),
    )

    # Signed links carry their expiry: read both at the same moment.
    with mock.patch("inbox.attachments.time.time", return_value=1_900_000_000):
        listed = operator_client.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()
        expected = [
            message_representation(message)
            for message in Message.objects.filter(conversation=conversation)
            .select_related("author")
            .order_by("id")
        ]

    assert listed["results"] == expected
    assert "cid:" not in listed["results"][1]["body_html"]
    assert [a["filename"] for a in listed["results"][1]["attachments"]] == [
        "photo.png",
        "terms.pdf",
    ]


def test_a_listed_customer_reads_as_the_customer_itself(operator_client, channel):
    customer = CustomerFactory(
        name="Maria Garcia", phone="+34600123456", attributes={"plan": "pro"}
    )
    IdentityFactory(customer=customer, kind="telegram", value="tg-1")
    IdentityFactory(customer=customer, kind="email", value="maria@example.com", is_reachable=False)
    IdentityClaim.objects.create(customer=customer, kind="email", value="m@typo.example")
    ConversationFactory(channel=channel, customer=customer)
    quiet = CustomerFactory(name="")
    ConversationFactory(channel=channel, customer=quiet)

    listed = {
        item["id"]: item for item in operator_client.get("/api/v1/customers/").json()["results"]
    }

    for profile in (customer, quiet):
        profile.refresh_from_db()
        assert listed[profile.pk] == CustomerOutputSerializer(profile).data
    # JSON booleans, not 1 and 0 (which compare equal to them in Python), on every database.
    assert [
        (identity["value"], identity["is_reachable"])
        for identity in listed[customer.pk]["identities"]
    ] == [("tg-1", True), ("maria@example.com", False)]
    assert [type(identity["is_reachable"]) for identity in listed[customer.pk]["identities"]] == [
        bool,
        bool,
    ]
