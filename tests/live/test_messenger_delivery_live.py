"""A Messenger reply delivered by a real Celery worker to a fake Send API, and a rate
limit retried by the worker with backoff."""

import pytest

from channels_app.services import channel_create
from inbox.models import MessageStatus
from tests.channels_app.messenger.helpers import PSID
from tests.channels_app.meta_messaging import MESSENGER, meta_config
from tests.conftest import client_for
from tests.factories import ConversationFactory
from tests.failure_reasons import reason_text
from tests.fakes.meta_messaging import CALLS_RATE_LIMITED, FakeSendApi
from tests.live.test_celery_delivery import wait_for_status

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def send_api():
    with FakeSendApi() as fake:
        yield fake


@pytest.fixture
def conversation(team, send_api):
    from django.utils import timezone

    channel = channel_create(kind="messenger", name="Page", config=meta_config(MESSENGER, send_api))
    channel.teams.set([team])
    conversation = ConversationFactory(channel=channel, recipient_address=PSID)
    conversation.last_inbound_at = timezone.now()
    conversation.save()
    return conversation


def test_a_reply_is_sent_by_the_worker_through_the_send_api(
    celery_worker, conversation, operator, send_api
):
    send_api.fail_next(CALLS_RATE_LIMITED, endpoint="messages")
    messages_url = f"/api/v1/conversations/{conversation.pk}/messages/"
    api = client_for(operator)

    reply_id = api.post(messages_url, {"body": "On its way!"}, format="json").json()["id"]

    message = wait_for_status(reply_id, {MessageStatus.SENT, MessageStatus.FAILED})
    assert message.status == MessageStatus.SENT, reason_text(message)
    first_try, sent = send_api.requests
    assert first_try.json()["message"]["text"] == "On its way!"
    assert sent.json()["message"]["text"] == "On its way!"
    assert sent.json()["messaging_type"] == "RESPONSE"
    shown = api.get(messages_url).json()["results"][-1]
    assert (shown["status"], shown["external_id"]) == ("sent", send_api.sent_message_ids[0])
