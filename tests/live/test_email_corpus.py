"""Every message of the real-world-shaped corpus (tests/channels_app/fixtures/email),
sent through our SMTP server with smtplib: each is accepted, and lands as the right
customer with the right visible text, or (auto-replies, bounces, our own mail) opens
nothing at all."""

import json
import re
import smtplib
from pathlib import Path

import pytest

from channels_app.adapters.email import own_message_marker
from channels_app.models import WebhookEvent
from channels_app.smtp_inbound import smtp_inbound_controller
from customers.models import Identity
from inbox.models import Conversation, Message
from tests.factories import ChannelFactory
from tests.live.conftest import free_port

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

CORPUS = Path(__file__).resolve().parents[1] / "channels_app" / "fixtures" / "email"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())["messages"]
SUPPORT = "support@acme.example"


@pytest.fixture(scope="module")
def smtp_port():
    port = free_port()
    controller = smtp_inbound_controller(host="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def test_the_corpus_is_large_enough():
    assert len(EXPECTED) >= 30
    assert {path.name for path in CORPUS.glob("*.eml")} == set(EXPECTED)


@pytest.mark.parametrize("filename", sorted(EXPECTED))
def test_a_corpus_message_through_smtp(filename, smtp_port):
    expected = EXPECTED[filename]
    channel = ChannelFactory(kind="email", config={"address": SUPPORT})
    raw = (CORPUS / filename).read_bytes()
    if expected["is_own_message"]:
        # Our mail is recognised by its signed marker, which depends on this install's key.
        raw = re.sub(
            rb"(?im)^(X-Switchboard-Message-Id:\s*)(\S+)",
            lambda found: found[1] + own_message_marker(found[2].decode()).encode(),
            raw,
        )

    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
        refused = client.sendmail(expected["from_address"] or "sender@example.net", [SUPPORT], raw)

    assert refused == {}
    assert WebhookEvent.objects.filter(channel=channel).count() == 1
    opens_nothing = (
        expected["is_auto_reply"]
        or expected["bounce_original_message_id"] is not None
        or expected["is_own_message"]
    )
    if opens_nothing:
        assert not Message.objects.exists() and not Conversation.objects.exists()
        return
    message = Message.objects.select_related("conversation__customer").get()
    assert expected["visible_contains"] in message.body
    if expected["hidden_contains"]:
        assert expected["hidden_contains"] not in message.body
        assert expected["hidden_contains"] in message.body_full
    if expected["message_id"] != "synthetic":
        assert message.external_id == expected["message_id"]
    assert message.attachments.count() == expected["attachments"]
    customer = message.conversation.customer
    assert Identity.objects.filter(
        customer=customer, kind="email", value=expected["from_address"]
    ).exists()
    if expected["from_name"]:
        assert customer.name == expected["from_name"]
