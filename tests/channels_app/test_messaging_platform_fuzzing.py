"""No signed payload makes a Messenger or Instagram webhook answer 500: arbitrary JSON
built from the Messenger Platform's keys, and real payloads with one part swapped."""

import json

import pytest
from hypothesis import HealthCheck, given, settings

from tests.channels_app.meta_messaging import INSTAGRAM, MESSENGER
from tests.channels_app.payload_fuzzing import json_values_with, mutated_payloads
from tests.helpers import sign

pytestmark = pytest.mark.django_db

MESSAGING_KEYS = (
    "object", "entry", "id", "time", "messaging", "sender", "recipient", "timestamp",
    "message", "mid", "text", "attachments", "type", "payload", "url", "sticker_id", "title",
    "quick_reply", "reply_to", "is_echo", "metadata", "postback", "reaction", "action",
    "emoji", "delivery", "mids", "watermark", "read", "message_edit", "is_deleted", "story",
    "coordinates", "lat", "long",
)  # fmt: skip
FIXTURES = {
    MESSENGER: [
        "text", "image", "sticker_like", "fallback", "quick_reply", "postback", "reaction",
        "message_edit", "echo_business_suite", "delivery", "read", "batch",
    ],
    INSTAGRAM: ["text", "image", "story_reply", "story_mention", "share", "reaction", "echo"],
}  # fmt: skip
json_values = json_values_with(
    MESSAGING_KEYS, ["page", "instagram", "image", "file", "fallback", "share", "6483940018373652"]
)


def payloads(webhooks):
    return json_values | mutated_payloads(webhooks.fixture_json, FIXTURES[webhooks], json_values)


@pytest.mark.parametrize(
    ("webhooks", "channel_fixture"),
    [(MESSENGER, "messenger_channel"), (INSTAGRAM, "instagram_channel")],
    ids=["messenger", "instagram"],
)
def test_no_signed_payload_makes_the_webhook_answer_500(request, client, webhooks, channel_fixture):
    channel = request.getfixturevalue(channel_fixture)

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(payload=payloads(webhooks))
    def answer_is_never_500(payload):
        body = json.dumps(payload).encode()

        response = webhooks.post(client, channel, body, signature=sign(body, webhooks.app_secret))

        assert response.status_code in (200, 400), response.content

    answer_is_never_500()
