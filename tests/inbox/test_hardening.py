from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from channels_app.models import Channel
from channels_app.services import message_deliver
from inbox.models import Attachment, Message, MessageStatus
from inbox.services import message_reply, messages_requeue_stuck
from tests.channels_app.test_api_webhook import post_webhook
from tests.conftest import client_for
from tests.factories import ConversationFactory, MessageFactory, TeamFactory, UserFactory
from tests.failure_reasons import reason_text
from tests.helpers import api_payload

pytestmark = pytest.mark.django_db


def test_a_channel_whose_secrets_cannot_be_read_refuses_webhooks_without_a_500(client, channel):
    Channel.objects.filter(pk=channel.pk).update(secrets_encrypted="gAAAAA-not-a-valid-token")
    channel.refresh_from_db()

    response = post_webhook(client, channel, api_payload())

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_a_reply_on_a_channel_without_readable_secrets_fails_with_a_reason(channel, operator):
    conversation = ConversationFactory(channel=channel)
    reply = message_reply(conversation=conversation, author=operator, body="hi")
    Channel.objects.filter(pk=channel.pk).update(secrets_encrypted="broken")

    message_deliver(message_id=reply.pk, attempt=1, max_attempts=3)

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert reason_text(reply).startswith("The channel's secrets cannot be decrypted")


def test_replies_whose_task_was_lost_are_queued_again(
    channel, operator, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(channel=channel)
    stuck = message_reply(conversation=conversation, author=operator, body="lost")
    fresh = message_reply(conversation=conversation, author=operator, body="waiting for a retry")
    Message.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks() as callbacks:
        requeued = messages_requeue_stuck(older_than=timedelta(minutes=30))

    assert requeued == [stuck.pk]
    assert len(callbacks) == 1
    assert fresh.pk not in requeued


def test_attachment_files_are_served_only_to_who_may_see_the_conversation(
    channel, operator, client
):
    message = MessageFactory(conversation=ConversationFactory(channel=channel))
    attachment = Attachment(message=message, filename="receipt.pdf", content_type="application/pdf")
    attachment.file.save("receipt.pdf", ContentFile(b"%PDF-1.4 receipt"), save=True)
    path = f"/media/{attachment.file.name}"
    outsider = client_for(UserFactory(teams=[TeamFactory()]))

    allowed = client_for(operator).get(path)

    assert allowed.status_code == 200
    assert b"".join(allowed.streaming_content) == b"%PDF-1.4 receipt"
    assert "attachment" in allowed["Content-Disposition"]
    assert outsider.get(path).status_code == 404
    assert client.get(path).status_code in (401, 403)
    assert client_for(operator).get("/media/attachments/nothing.pdf").status_code == 404
