"""Messenger test helpers: its signed webhooks and the ids its fixtures use."""

from tests.channels_app.meta_messaging import MESSENGER

APP_SECRET = MESSENGER.app_secret
PSID = "6483940018373652"
TEXT_MID = (
    "m_AG5Hz2Uq7r5Hd4yOyvBc0CR6nuYw8uCVvHJUbERAMLlVKbN1LdzrMbE7I8WNqpHl4lJ9_9GZzmwn7GCWq-xPtg"
)
fixture_bytes = MESSENGER.fixture_bytes
fixture_json = MESSENGER.fixture_json
post_messenger = MESSENGER.post
post_fixture = MESSENGER.post_fixture
post_payload = MESSENGER.post_payload
