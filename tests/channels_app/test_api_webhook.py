import json
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_app.models import WebhookEvent, WebhookEventStatus
from customers.models import Customer
from inbox.models import Conversation, Message
from tests.factories import ChannelFactory
from tests.helpers import api_payload, sign, stored_counts

pytestmark = pytest.mark.django_db


def post_webhook(client, channel, body: bytes, *, signature: str | None = None, **headers):
    return client.post(
        f"/webhooks/api/{channel.public_id}/",
        data=body,
        content_type="application/json",
        HTTP_X_SWITCHBOARD_SIGNATURE=signature if signature is not None else sign(body),
        **headers,
    )


def test_signed_webhook_creates_customer_conversation_and_message(client, channel):
    body = api_payload(sender_id="u-42", name="Maria Garcia", email="Maria@Example.com")

    response = post_webhook(client, channel, body)

    assert response.status_code == 200
    message = Message.objects.get()
    assert response.json()["messages"] == [
        {"id": message.pk, "conversation_id": message.conversation_id, "duplicate": False}
    ]
    assert message.body == "Hello, my order is late"
    assert message.direction == "in"
    assert message.external_id == "m-1"
    conversation = message.conversation
    assert conversation.channel == channel
    assert conversation.status == "open"
    assert conversation.recipient_address == "u-42"
    customer = conversation.customer
    assert customer.name == "Maria Garcia"
    assert customer.email == "maria@example.com"
    assert set(customer.identities.values_list("kind", "value")) == {
        ("api", f"{channel.public_id}:u-42"),
        ("email", "maria@example.com"),
    }
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED


def test_the_same_delivery_again_changes_nothing(client, channel):
    body = api_payload()
    first = post_webhook(client, channel, body)
    before = stored_counts()
    conversation_before = Conversation.objects.values().get()

    again = post_webhook(client, channel, body)

    assert again.status_code == 200
    assert again.json()["messages"][0]["duplicate"] is True
    assert again.json()["messages"][0]["id"] == first.json()["messages"][0]["id"]
    assert stored_counts() == before
    # Not moved up, not reopened, not touched.
    assert Conversation.objects.values().get() == conversation_before


def test_a_redelivery_with_another_body_but_same_id_is_still_a_duplicate(client, channel):
    post_webhook(client, channel, api_payload(text="first"))

    response = post_webhook(client, channel, api_payload(text="edited copy"))

    assert response.status_code == 200
    assert list(Message.objects.values_list("body", flat=True)) == ["first"]


def test_a_second_message_from_the_same_sender_joins_the_conversation(client, channel):
    post_webhook(client, channel, api_payload(message_id="m-1"))
    post_webhook(client, channel, api_payload(message_id="m-2", text="Any news?"))

    assert Customer.objects.count() == 1
    conversation = Conversation.objects.get()
    assert list(conversation.messages.order_by("id").values_list("body", flat=True)) == [
        "Hello, my order is late",
        "Any news?",
    ]


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + "0" * 64,
        sign(b"another body"),
        sign(api_payload(), secret="wrong-secret"),
        "md5=abc",
        "",
    ],
)
def test_a_bad_signature_is_refused_and_nothing_is_stored(client, channel, signature):
    response = post_webhook(client, channel, api_payload(), signature=signature)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert stored_counts() == (0, 0, 0, 0)


def test_a_missing_signature_header_is_refused(client, channel):
    response = client.post(
        f"/webhooks/api/{channel.public_id}/", data=api_payload(), content_type="application/json"
    )

    assert response.status_code == 401
    assert stored_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b'{"id": "m-1", "sender": {"id": "u-1"}, "text": "hi"', "not valid JSON"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b"[1, 2, 3]", "JSON object"),
        (b'{"sender": {"id": "u-1"}, "text": "hi"}', "id"),
        (b'{"id": "m-1", "text": "hi"}', "sender"),
        (b'{"id": "m-1", "sender": {"id": ""}, "text": "hi"}', "sender.id"),
        (b'{"id": "m-1", "sender": {"id": "u"}, "text": 5}', "text"),
        (b'{"id": "m-1", "sender": {"id": "u"}, "text": "  "}', "text or attachments"),
        (
            b'{"id": "m-1", "sender": {"id": "u"}, "text": "x", "timestamp": "yesterday"}',
            "timestamp",
        ),
        (
            b'{"id": "m-1", "sender": {"id": "u"}, "attachments": [{"url": "file:///etc/passwd"}]}',
            "url",
        ),
    ],
)
def test_a_malformed_body_gets_400_with_a_json_error(client, channel, body, complaint):
    response = post_webhook(client, channel, body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "malformed"
    assert complaint in response.json()["detail"]
    assert (Customer.objects.count(), Message.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (
            b'{"id": "m-1", "sender": {"id": "u"}, "text": "x", '
            b'"timestamp": "9999-12-31T23:59:59-23:00"}',
            "timestamp",
        ),
        (b'{"id": "m-1", "sender": {"id": "u"}, "text": "x", "timestamp": -1e12}', "timestamp"),
        (
            b'{"id": "m-1", "sender": {"id": "u"}, "attachments": [{"url": "https://a.example/'
            + b"x" * 2100
            + b'"}]}',
            "url",
        ),
        (
            b'{"id": "m-1", "sender": {"id": "u"}, "attachments": '
            b'[{"url": "https://a.example/f.pdf", "size": 99999999999999999999}]}',
            "size",
        ),
        (b'{"id": "m-1", "sender": {"id": "u\\ud800"}, "text": "x"}', "sender.id"),
        (b'{"id": "m-1", "sender": {"id": "u"}, "text": "x", "deep": ' + b"[" * 100_000, "deep"),
    ],
    ids=["year-overflow", "far-past", "long-url", "huge-size", "lone-surrogate-id", "deep"],
)
def test_values_the_database_cannot_keep_get_400_not_a_silent_failure(
    client, channel, body, complaint
):
    if complaint == "deep":
        body += b"]" * 100_000 + b"}"
        complaint = "nested too deeply"

    response = post_webhook(client, channel, body)

    assert response.status_code == 400
    assert response.json()["error"] == "malformed"
    assert complaint in response.json()["detail"]
    assert stored_counts()[:3] == (0, 0, 0)


def test_text_and_names_with_lone_surrogates_or_an_overlong_email_are_stored_cleaned(
    client, channel
):
    body = (
        b'{"id": "m-1", "sender": {"id": "u-1", "name": "Ma\\ud800ria", "email": "'
        + b"a" * 330
        + b'@example.com"}, "text": "broken \\udc00 emoji"}'
    )

    response = post_webhook(client, channel, body)

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    message = Message.objects.get()
    assert message.body == "broken ? emoji"
    assert message.conversation.customer.name == "Ma?ria"
    # An address longer than mail can carry is no identity; the message is kept anyway.
    assert not message.conversation.customer.identities.filter(kind="email").exists()


def test_an_unknown_channel_gets_404(client, channel):
    body = api_payload()
    response = post_webhook(client, channel, body, signature=sign(body))
    other = client.post(
        f"/webhooks/api/{uuid.uuid4()}/",
        data=body,
        content_type="application/json",
        HTTP_X_SWITCHBOARD_SIGNATURE=sign(body),
    )

    assert response.status_code == 200
    assert other.status_code == 404
    assert other.json()["error"] == "not_found"


@pytest.mark.parametrize("path", ["/webhooks/api/not-a-uuid/", "/webhooks/nosuchkind/{id}/"])
def test_malformed_webhook_urls_get_a_json_404(client, channel, path):
    response = client.post(
        path.format(id=channel.public_id), data=b"{}", content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_an_inactive_channel_gets_404_and_stores_nothing(client):
    channel = ChannelFactory(is_active=False)

    response = post_webhook(client, channel, api_payload())

    assert response.status_code == 404
    assert stored_counts() == (0, 0, 0, 0)


def test_a_body_over_the_limit_gets_413(client, channel, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    body = api_payload(text="x" * 2000)

    response = post_webhook(client, channel, body)

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert stored_counts() == (0, 0, 0, 0)


def test_get_is_not_allowed(client, channel):
    response = client.get(f"/webhooks/api/{channel.public_id}/")

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_attachments_are_kept_with_the_message(client, channel):
    body = json.dumps(
        {
            "id": "m-9",
            "sender": {"id": "u-1"},
            "attachments": [
                {
                    "url": "https://cdn.example.com/a/photo.jpg",
                    "content_type": "image/jpeg",
                    "size": 2048,
                }
            ],
        }
    ).encode()

    response = post_webhook(client, channel, body)

    assert response.status_code == 200
    attachment = Message.objects.get().attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "photo.jpg",
        "image/jpeg",
        2048,
    )


def test_a_failure_while_processing_keeps_the_raw_event_for_a_retry(client, channel, monkeypatch):
    from channels_app import services
    from inbox import services as inbox_services

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(inbox_services, "message_receive", broken)
    body = api_payload()

    response = post_webhook(client, channel, body)

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.FAILED
    assert "database hiccup" in event.error
    assert Message.objects.count() == 0

    monkeypatch.undo()
    assert services.webhook_events_reprocess_failed() == 1
    assert Message.objects.get().body == "Hello, my order is late"
    event.refresh_from_db()
    assert event.status == WebhookEventStatus.PROCESSED


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "sender",
                    "text",
                    "name",
                    "email",
                    "phone",
                    "attachments",
                    "timestamp",
                    "url",
                    "size",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=json_values)
def test_no_signed_payload_makes_the_webhook_answer_500(client, channel, payload):
    body = json.dumps(payload).encode()

    response = post_webhook(client, channel, body)

    assert response.status_code in (200, 400)
    assert "error" in response.json() or response.json()["status"] == "ok"


def test_reprocessing_retries_the_oldest_first_less_often_and_gives_up_at_last(
    client, channel, monkeypatch, settings, admin_user
):
    from channels_app import services
    from inbox import services as inbox_services

    settings.WEBHOOK_REPROCESS_MAX_ATTEMPTS = 3
    settings.WEBHOOK_REPROCESS_SECONDS = 300
    real_receive = inbox_services.message_receive

    def fails(**kwargs):
        raise RuntimeError("always fails")

    monkeypatch.setattr(inbox_services, "message_receive", fails)
    post_webhook(client, channel, api_payload(text="poison", message_id="m-poison"))
    post_webhook(client, channel, api_payload(text="fine later", message_id="m-fine"))
    poison, fine = WebhookEvent.objects.order_by("id")

    def receive_unless_poison(**kwargs):
        if kwargs["inbound"].text == "poison":
            raise RuntimeError("always fails")
        return real_receive(**kwargs)

    monkeypatch.setattr(inbox_services, "message_receive", receive_unless_poison)
    arrived = poison.created_at
    # First retry at the next run, oldest first.
    assert services.webhook_events_reprocess_failed(limit=1, now=arrived) == 0
    # The second waits five minutes: only the other event is due meanwhile.
    assert services.webhook_events_reprocess_failed(now=arrived + timedelta(minutes=4)) == 1
    assert services.webhook_events_reprocess_failed(now=arrived + timedelta(minutes=6)) == 0
    # Three runs: poison is left failed, with its error, however late it gets.
    assert services.webhook_events_reprocess_failed(now=arrived + timedelta(days=30)) == 0

    poison.refresh_from_db()
    fine.refresh_from_db()
    assert (poison.status, poison.attempts) == (WebhookEventStatus.FAILED, 3)
    assert "always fails" in poison.error
    assert fine.status == WebhookEventStatus.PROCESSED
    assert Message.objects.get().body == "fine later"

    # Fixed: an admin processes it again from Django admin.
    monkeypatch.setattr(inbox_services, "message_receive", real_receive)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client.force_login(admin_user)
    response = client.post(
        "/admin/channels_app/webhookevent/",
        {"action": "process_again", "_selected_action": [poison.pk, fine.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert any("1 of 1" in str(message) for message in response.context["messages"])
    poison.refresh_from_db()
    assert poison.status == WebhookEventStatus.PROCESSED
    assert Message.objects.filter(body="poison").exists()


def test_a_body_our_parser_trips_on_is_kept_and_answered_200_not_500(client, channel, monkeypatch):
    from channels_app.adapters.api import ApiAdapter

    def parser_bug(self, request):
        raise KeyError("unexpected shape")

    monkeypatch.setattr(ApiAdapter, "parse", parser_bug)

    response = post_webhook(client, channel, api_payload())

    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "processed": False}
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.FAILED and "unexpected shape" in event.error
