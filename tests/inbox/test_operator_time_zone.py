"""An operator's own time zone: set through operators/me/ (an IANA name), kept, and their
pages show times in it; without one, pages leave times to the browser's zone."""

from datetime import UTC, datetime

import pytest

from inbox.models import ConversationEvent, ConversationEventKind, User
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_an_operator_reads_and_sets_their_own_time_zone(operator_client, operator, admin_user):
    assert operator_client.get("/api/v1/operators/me/").json()["time_zone"] == ""

    response = operator_client.patch(
        "/api/v1/operators/me/", {"time_zone": "Europe/Warsaw"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["time_zone"] == "Europe/Warsaw"
    assert response.json()["language"] == ""  # the other settings stay
    assert User.objects.get(pk=operator.pk).time_zone == "Europe/Warsaw"
    assert User.objects.get(pk=admin_user.pk).time_zone == ""
    back = operator_client.patch("/api/v1/operators/me/", {"time_zone": ""}, format="json")
    assert back.json()["time_zone"] == ""


def test_a_name_that_is_no_time_zone_is_refused(operator_client, operator):
    refused = ["Mars/Olympus", "europe/warsaw", "+03:00", "x" * 80, 3]

    answers = [
        operator_client.patch("/api/v1/operators/me/", {"time_zone": name}, format="json")
        for name in refused
    ]

    assert [answer.status_code for answer in answers] == [400] * len(refused)
    assert all("time_zone" in answer.json()["fields"] for answer in answers)
    assert User.objects.get(pk=operator.pk).time_zone == ""


def test_the_refusal_is_worded_in_the_operators_language(client, operator):
    operator.language = "ru"
    operator.save()
    client.force_login(operator)

    response = client.patch(
        "/api/v1/operators/me/", {"time_zone": "Mars/Olympus"}, content_type="application/json"
    )

    assert response.json()["fields"]["time_zone"] == ["Такого часового пояса нет: Mars/Olympus."]


def test_the_schema_documents_the_time_zone(operator_client):
    schema = operator_client.get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]

    assert "time_zone" in components["PersonalSettingsOutput"]["properties"]
    assert "time_zone" in components["PatchedPersonalSettingsInputRequest"]["properties"]


@pytest.fixture
def resolved_at_noon_utc(channel, operator):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation, body="Hello")
    event = ConversationEvent.objects.create(
        conversation=conversation, kind=ConversationEventKind.RESOLVED, actor=operator
    )
    noon = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
    ConversationEvent.objects.filter(pk=event.pk).update(created_at=noon)
    return conversation


@pytest.mark.parametrize(
    ("time_zone", "shown", "attribute"),
    [
        ("Europe/Moscow", "15:05", ' data-time-zone="Europe/Moscow"'),
        ("America/New_York", "07:05", ' data-time-zone="America/New_York"'),
        ("", "12:05", ""),
    ],
)
def test_pages_show_times_in_the_operators_time_zone(
    client, operator, resolved_at_noon_utc, time_zone, shown, attribute
):
    operator.time_zone = time_zone
    operator.save()
    client.force_login(operator)

    pane = client.get(f"/inbox/conversations/{resolved_at_noon_utc.pk}/").json()
    page = client.get("/").content.decode()

    assert f'datetime="2026-03-02T12:05:00Z">{shown}</time>' in pane["thread_html"]
    assert f'<html lang="en"{attribute}>' in page


def test_the_settings_page_offers_the_time_zones_with_the_operators_chosen(client, operator):
    operator.time_zone = "Europe/Warsaw"
    operator.save()
    client.force_login(operator)

    page = client.get("/settings/").content.decode()

    assert '<select id="time-zone-select" name="time_zone">' in page
    assert "<option selected>Europe/Warsaw</option>" in page
    assert "<option>Asia/Tokyo</option>" in page
