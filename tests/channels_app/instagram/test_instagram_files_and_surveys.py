"""Instagram: the videos, voice messages and files customers send, fetched into our storage
within the size cap; a survey answered by quick reply, in the report for the operator who
had the conversation; the sender's username kept on their identity; our own replies'
echoes never stored twice."""

from datetime import timedelta

import pytest

from channels_app import sender_profiles
from channels_app.adapters.meta import media
from channels_app.services import attachment_fetch_media
from customers.models import Customer, Identity
from inbox.models import Attachment, Conversation, CsatSurvey, Message, SurveyStatus
from inbox.services import message_reply
from tests.channels_app.meta_messaging import (
    INSTAGRAM,
    NOW,
    customer_wrote,
    delivered,
    first_item,
)
from tests.factories import UserFactory
from tests.helpers import surveys_sent_after_resolving

pytestmark = pytest.mark.django_db

IGSID = "1254459154682919"
# What the fake CDN serves for each kind: its content type and bytes.
FILES = {
    "video": ("video/mp4", b"\x00\x00\x00\x18ftypmp42" + b"v" * 2000),
    "audio": ("audio/mp4", b"\x00\x00\x00\x18ftypM4A " + b"a" * 2000),
    "file": ("application/pdf", b"%PDF-1.7\n" + b"f" * 2000),
}


def received(client, channel, fixture: str, url: str | None = None) -> Attachment:
    payload = INSTAGRAM.fixture_json(fixture)
    if url is not None:
        first_item(payload)["message"]["attachments"][0]["payload"]["url"] = url
    INSTAGRAM.post_payload(client, channel, payload)
    return Attachment.objects.get()


# Files


@pytest.mark.parametrize(
    ("fixture", "filename", "content_type"),
    [
        ("video", "video.mp4", "video/mp4"),
        ("audio", "audio.mp4", "audio/mp4"),
        ("file", "file", "application/octet-stream"),
    ],
)
def test_videos_voice_messages_and_files_keep_their_cdn_link_to_fetch(
    client, instagram_channel, fixture, filename, content_type
):
    attachment = received(client, instagram_channel, fixture)

    url = first_item(INSTAGRAM.fixture_json(fixture))["message"]["attachments"][0]["payload"]
    assert (attachment.filename, attachment.content_type) == (filename, content_type)
    assert attachment.remote_url == attachment.media_id == url["url"]
    assert attachment.message.body == ""
    assert not attachment.file


@pytest.mark.parametrize("fixture", ["video", "audio", "file"])
def test_a_received_file_is_fetched_into_storage_without_the_token(
    client, instagram_channel, send_api, media_root, fixture
):
    content_type, content = FILES[fixture]
    url = send_api.add_file(f"{fixture}-1", content, content_type)
    attachment = received(client, instagram_channel, fixture, url)

    assert attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3) is None

    attachment.refresh_from_db()
    assert attachment.file.read() == content
    assert (attachment.size, attachment.content_type) == (len(content), content_type)
    [download] = send_api.requests
    assert "authorization" not in download.headers


@pytest.mark.parametrize("fixture", ["video", "audio", "file"])
def test_a_file_over_the_cap_is_not_stored_and_says_why(
    client, instagram_channel, send_api, media_root, monkeypatch, fixture
):
    monkeypatch.setattr(media, "MAX_MEDIA_BYTES", 1000)
    content_type, content = FILES[fixture]
    url = send_api.add_file(f"{fixture}-big", content, content_type)
    attachment = received(client, instagram_channel, fixture, url)

    attachment_fetch_media(attachment_id=attachment.pk, attempt=1, max_attempts=3)

    attachment.refresh_from_db()
    assert not attachment.file
    assert list(media_root.rglob("*")) == []
    assert "over 1000 bytes" in attachment.fetch_error


# The survey, answered by quick reply


def test_a_survey_answered_by_quick_reply_lands_in_the_report_for_the_assigned_operator(
    client, instagram_channel, operator, team, send_api, frozen_now, supervisor_client
):
    conversation = customer_wrote(client, instagram_channel, INSTAGRAM, at=NOW - timedelta(hours=1))
    Conversation.objects.filter(pk=conversation.pk).update(assignee=operator)
    conversation.refresh_from_db()
    delivered(message_reply(conversation=conversation, author=operator, body="Sent today!"))
    colleague = UserFactory(username="ben", first_name="Ben", teams=[team])
    surveys_sent_after_resolving(conversation, colleague)
    quick_replies = send_api.sent_messages[-1]["message"]["quick_replies"]
    assert [item["title"][0] for item in quick_replies] == ["5", "4", "3", "2", "1"]
    answer = INSTAGRAM.fixture_json("quick_reply")
    first_item(answer)["message"]["quick_reply"]["payload"] = quick_replies[1]["payload"]

    INSTAGRAM.post_payload(client, instagram_channel, answer)

    survey = CsatSurvey.objects.get()
    assert (survey.status, survey.rating, survey.operator) == (SurveyStatus.ANSWERED, 4, operator)
    report = supervisor_client.get("/api/v1/reports/csat/?group_by=operator").json()
    rows = {row["group"]["name"]: row for row in report["results"]}
    assert set(rows) == {"Anna"}
    assert (rows["Anna"]["responses"], rows["Anna"]["average_rating"]) == (1, 4.0)
    assert rows["Anna"]["distribution"]["4"] == 1


def test_a_quick_reply_with_a_payload_that_is_not_ours_is_just_a_message(client, instagram_channel):
    INSTAGRAM.post_fixture(client, instagram_channel, "quick_reply")

    assert Message.objects.get().body == "4 - Good"
    assert not CsatSurvey.objects.exists()


# The sender's profile


def test_the_name_and_the_username_are_kept_from_the_profile_api(
    client, instagram_channel, send_api
):
    send_api.profiles[IGSID] = {"name": "Ola Nowak", "username": "ola.nowak"}
    INSTAGRAM.post_fixture(client, instagram_channel, "text")

    name = sender_profiles.sender_name_fetch(channel_id=instagram_channel.pk, address=IGSID)

    assert name == "Ola Nowak"
    assert Customer.objects.get().name == "Ola Nowak"
    assert Identity.objects.get(kind="instagram", value=IGSID).username == "ola.nowak"
    [lookup] = send_api.requests_to("profile")
    assert lookup.query["fields"] == "name,username"


def test_without_a_name_the_username_names_the_customer_and_the_api_shows_it(
    client, instagram_channel, send_api, operator_client
):
    send_api.profiles[IGSID] = {"username": "ola.nowak"}
    INSTAGRAM.post_fixture(client, instagram_channel, "text")

    sender_profiles.sender_name_fetch(channel_id=instagram_channel.pk, address=IGSID)
    sender_profiles.sender_name_fetch(channel_id=instagram_channel.pk, address=IGSID)

    customer = Customer.objects.get()
    assert customer.name == "ola.nowak"
    shown = operator_client.get(f"/api/v1/customers/{customer.pk}/").json()
    assert shown["identities"] == [
        {
            "kind": "instagram",
            "value": IGSID,
            "username": "ola.nowak",
            "is_reachable": True,
            "avatar_url": "",
        }
    ]
    # Asked once, then kept.
    assert len(send_api.requests_to("profile")) == 1


def test_the_customer_panel_shows_the_username(client, instagram_channel, send_api, operator):
    send_api.profiles[IGSID] = {"name": "Ola Nowak", "username": "ola.nowak"}
    INSTAGRAM.post_fixture(client, instagram_channel, "text")
    sender_profiles.sender_name_fetch(channel_id=instagram_channel.pk, address=IGSID)
    client.force_login(operator)

    pane = client.get(f"/inbox/conversations/{Conversation.objects.get().pk}/").json()

    assert '<span class="identity-username">@ola.nowak</span>' in str(pane)


# Echoes of our own replies


def test_the_echo_of_a_reply_sent_from_switchboard_is_never_a_second_copy(
    client, instagram_channel, operator, send_api, frozen_now
):
    conversation = customer_wrote(client, instagram_channel, INSTAGRAM, at=NOW - timedelta(hours=1))
    ours = delivered(message_reply(conversation=conversation, author=operator, body="On its way"))
    [sent] = send_api.sent_messages
    echo = INSTAGRAM.fixture_json("echo")
    first_item(echo)["message"].update(
        mid=ours.external_id, text="On its way", metadata=sent["message"]["metadata"]
    )

    INSTAGRAM.post_payload(client, instagram_channel, echo)
    del first_item(echo)["message"]["metadata"]
    INSTAGRAM.post_payload(client, instagram_channel, echo)

    assert list(Message.objects.filter(direction="out")) == [ours]
    assert ours.sent_from == ""


def test_the_echo_of_a_reply_still_being_sent_is_not_a_second_copy(
    client, instagram_channel, operator
):
    conversation = customer_wrote(client, instagram_channel, INSTAGRAM, at=NOW - timedelta(hours=1))
    ours = message_reply(conversation=conversation, author=operator, body="Yes, we ship to Poland.")

    INSTAGRAM.post_fixture(client, instagram_channel, "echo")

    assert list(Message.objects.filter(direction="out")) == [ours]
