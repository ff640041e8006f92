"""Survey kinds on the one survey model: CSAT 1-5, CES 1-7 (7 = very easy), NPS 0-10, each
sent, answered and refused off its scale on every path."""

import secrets
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox import csat
from inbox.models import ConversationStatus, CsatSurvey, Message, SurveyStatus
from inbox.services import conversation_resolve
from tests.channels_app.test_api_webhook import post_webhook
from tests.helpers import api_payload
from tests.inbox.test_csat import conversation, make_due, send_due, survey_requests

__all__ = ["conversation"]

pytestmark = pytest.mark.django_db


def ask_after_contact(channel, kind: str) -> None:
    channel.csat = {**channel.csat, "kind": kind}
    channel.save()


def sent(conversation, operator) -> CsatSurvey:
    conversation_resolve(conversation=conversation, resolved_by=operator)
    make_due(CsatSurvey.objects.get())
    send_due()
    return CsatSurvey.objects.get()


def sent_nps(conversation) -> CsatSurvey:
    now = timezone.now()
    return CsatSurvey.objects.create(
        kind="nps",
        conversation=conversation,
        customer=conversation.customer,
        channel=conversation.channel,
        token=secrets.token_urlsafe(24),
        due_at=now,
        sent_at=now,
        expires_at=now + timedelta(days=7),
        status=SurveyStatus.SENT,
    )


def hints(conversation) -> list[str]:
    return list(
        Message.objects.filter(conversation=conversation, direction="out", author=None)
        .order_by("id")
        .values_list("body", flat=True)
    )


def test_a_channel_asks_csat_after_a_contact_unless_set_to_ces(
    conversation, operator, channel, callback_server
):
    survey = sent(conversation, operator)

    assert survey.kind == "csat"
    [request] = survey_requests(callback_server)
    assert request["kind"] == "csat"
    assert [choice["value"] for choice in request["ratings"]] == [1, 2, 3, 4, 5]


def test_a_ces_channel_asks_how_easy_it_was_on_a_scale_of_seven(
    conversation, operator, channel, callback_server
):
    ask_after_contact(channel, "ces")

    survey = sent(conversation, operator)

    assert (survey.kind, survey.status) == ("ces", SurveyStatus.SENT)
    [request] = survey_requests(callback_server)
    assert request["kind"] == "ces"
    assert request["question"] == "How easy was it to get your issue solved?"
    assert [(c["value"], c["label"]) for c in request["ratings"]][::6] == [
        (1, "Very difficult"),
        (7, "Very easy"),
    ]


def test_the_kind_is_frozen_when_the_conversation_is_resolved(conversation, operator, channel):
    conversation_resolve(conversation=conversation, resolved_by=operator)

    ask_after_contact(channel, "ces")

    assert CsatSurvey.objects.get().kind == "csat"


def test_the_ces_page_takes_one_to_seven_and_refuses_eight_with_a_400(
    client, conversation, operator, channel
):
    ask_after_contact(channel, "ces")
    survey = sent(conversation, operator)

    page = client.get(f"/survey/{survey.token}/").content.decode()
    assert "How easy was it to get your issue solved?" in page
    assert 'value="7"' in page and 'value="8"' not in page

    refused = client.post(f"/survey/{survey.token}/", {"rating": "8"})
    assert refused.status_code == 400
    assert "Please choose a rating from 1 to 7." in refused.content.decode()
    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.SENT, None)

    answered = client.post(f"/survey/{survey.token}/", {"rating": "7", "comment": "Easy"})
    assert answered.status_code == 200
    assert "7 / 7" in answered.content.decode()
    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 7)


def test_the_nps_page_takes_zero_as_an_answer(client, conversation):
    survey = sent_nps(conversation)

    page = client.get(f"/survey/{survey.token}/").content.decode()
    assert "How likely are you to recommend us to a friend or colleague?" in page
    assert 'value="0"' in page and 'value="10"' in page

    answered = client.post(f"/survey/{survey.token}/", {"rating": "0"})

    assert answered.status_code == 200
    assert "0 / 10" in answered.content.decode()
    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 0)


@pytest.mark.parametrize("value", ["11", "-1", "5.5", "seven"])
def test_the_nps_page_refuses_what_is_off_its_scale(client, conversation, value):
    survey = sent_nps(conversation)

    refused = client.post(f"/survey/{survey.token}/", {"rating": value})

    assert refused.status_code == 400
    assert "Please choose a rating from 0 to 10." in refused.content.decode()
    survey.refresh_from_db()
    assert survey.rating is None


def test_a_typed_number_on_the_scale_answers_a_ces_survey(client, conversation, operator, channel):
    ask_after_contact(channel, "ces")
    survey = sent(conversation, operator)

    post_webhook(client, channel, api_payload(message_id="r-1", sender_id="u-1", text="6"))

    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 6)
    assert hints(conversation) == []


def test_a_typed_number_off_the_scale_gets_a_hint_and_does_not_reopen(
    client, conversation, operator, channel, django_capture_on_commit_callbacks
):
    ask_after_contact(channel, "ces")
    survey = sent(conversation, operator)

    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(client, channel, api_payload(message_id="r-1", sender_id="u-1", text="9"))

    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.SENT, None)
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.RESOLVED
    assert hints(conversation) == ["Please answer with a number from 1 to 7."]

    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(client, channel, api_payload(message_id="r-2", sender_id="u-1", text="7"))

    survey.refresh_from_db()
    assert survey.rating == 7
    assert len(hints(conversation)) == 1


def test_the_hint_is_in_the_customers_language(
    client, conversation, operator, channel, django_capture_on_commit_callbacks
):
    conversation.customer.language = "pl"
    conversation.customer.save()
    survey = sent(conversation, operator)
    assert survey.language == "pl"

    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(client, channel, api_payload(message_id="r-1", sender_id="u-1", text="0"))

    assert hints(conversation) == ["Prosimy odpowiedzieć liczbą od 1 do 5."]


def test_a_long_number_is_not_taken_for_an_answer(
    client, conversation, operator, channel, django_capture_on_commit_callbacks
):
    survey = sent(conversation, operator)

    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(client, channel, api_payload(message_id="r-1", sender_id="u-1", text="4711"))

    survey.refresh_from_db()
    assert survey.rating is None
    assert hints(conversation) == []


def test_a_button_off_the_scale_is_refused(
    conversation, operator, django_capture_on_commit_callbacks
):
    from channels_app.contracts import InboundIdentity, InboundMessage
    from inbox.services import message_receive

    survey = sent(conversation, operator)

    with django_capture_on_commit_callbacks(execute=True):
        message_receive(
            channel=survey.channel,
            inbound=InboundMessage(
                external_id="cb-1",
                recipient_address="u-1",
                identities=tuple(
                    InboundIdentity(i.kind, i.value) for i in survey.customer.identities.all()
                ),
                text="9",
                button_payload=csat.csat_button_payload(survey, 9),
            ),
        )

    survey.refresh_from_db()
    assert survey.rating is None
    assert hints(conversation) == ["Please answer with a number from 1 to 5."]


def test_recording_an_answer_off_the_scale_is_refused(conversation):
    survey = sent_nps(conversation)

    with pytest.raises(csat.SurveyClosed) as refused:
        csat.csat_record_answer(survey=survey, rating=11)

    assert str(refused.value.reason) == "Please answer with a number from 0 to 10."
    survey.refresh_from_db()
    assert survey.rating is None


@pytest.mark.parametrize(("kind", "rating"), [("csat", 0), ("csat", 6), ("ces", 8), ("nps", 11)])
def test_the_database_keeps_each_kind_to_its_scale(conversation, kind, rating):
    survey = sent_nps(conversation)

    with pytest.raises(IntegrityError), transaction.atomic():
        CsatSurvey.objects.filter(pk=survey.pk).update(kind=kind, rating=rating)


def test_the_channel_api_sets_the_post_contact_kind(admin_client_api, channel):
    url = f"/api/v1/channels/{channel.pk}/"

    assert admin_client_api.patch(url, {"csat": {"kind": "ces"}}, format="json").status_code == 200
    refused = admin_client_api.patch(url, {"csat": {"kind": "nps"}}, format="json")

    assert refused.status_code == 400
    assert "kind" in refused.json()["fields"]["csat"]
    channel.refresh_from_db()
    assert channel.csat["kind"] == "ces"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rating=st.text(max_size=4) | st.integers(-20, 120).map(str),
    preselected=st.text(max_size=4),
)
def test_whatever_the_nps_page_is_sent_it_never_answers_500_nor_stores_off_the_scale(
    client, conversation, rating, preselected
):
    survey = CsatSurvey.objects.filter(conversation=conversation).first() or sent_nps(conversation)

    opened = client.get(f"/survey/{survey.token}/", {"rating": preselected})
    answered = client.post(f"/survey/{survey.token}/", {"rating": rating})

    # Text PostgreSQL cannot store is refused where every request comes in.
    assert opened.status_code == (400 if "\x00" in preselected else 200)
    assert answered.status_code in (200, 400, 409)
    survey.refresh_from_db()
    assert survey.rating is None or 0 <= survey.rating <= 10
