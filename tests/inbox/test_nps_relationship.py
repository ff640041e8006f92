"""NPS as a relationship survey: asked after a resolved contact in place of its CSAT or CES,
at most once per interval per customer across channels, of a sampled share, with the
settings an admin keeps through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import nps
from inbox.models import Conversation, CsatSurvey, Message, SurveyStatus
from inbox.nps_settings import nps_settings_get, nps_settings_update
from inbox.services import conversation_reopen, conversation_resolve, message_reply
from tests.channels_app.test_api_webhook import post_webhook
from tests.factories import ChannelFactory, ConversationFactory, IdentityFactory
from tests.helpers import api_payload
from tests.inbox.test_csat import make_due, send_due, survey_requests

pytestmark = pytest.mark.django_db


@pytest.fixture
def nps_on():
    return nps_settings_update(changes={"enabled": True, "interval_days": 90})


@pytest.fixture
def api_channel(channel, callback_server):
    channel.config = {"callback_url": callback_server.url}
    # No fatigue window: each contact's own survey shows which kind it asks.
    channel.csat = {**channel.csat, "fatigue_days": 0}
    channel.save()
    return channel


def contact(channel, operator, customer=None, address="u-1") -> Conversation:
    """A conversation the operator answered and resolved."""
    extra = {"customer": customer} if customer is not None else {}
    conversation = ConversationFactory(
        channel=channel, assignee=operator, recipient_address=address, **extra
    )
    IdentityFactory(
        customer=conversation.customer, kind="api", value=f"{channel.public_id}:{address}"
    )
    message_reply(conversation=conversation, author=operator, body="Done!")
    conversation_resolve(conversation=conversation, resolved_by=operator)
    return conversation


def kind_of(conversation) -> str:
    return CsatSurvey.objects.get(conversation=conversation).kind


def sent_long_ago(conversation, days: int) -> None:
    CsatSurvey.objects.filter(conversation=conversation).update(
        status=SurveyStatus.ANSWERED, sent_at=timezone.now() - timedelta(days=days), rating=9
    )


def test_without_the_setting_no_contact_asks_nps(api_channel, operator):
    assert nps_settings_get().enabled is False

    assert kind_of(contact(api_channel, operator)) == "csat"


def test_a_due_customer_is_asked_nps_in_place_of_the_contacts_survey(
    nps_on, api_channel, operator, callback_server
):
    conversation = contact(api_channel, operator)
    make_due(CsatSurvey.objects.get())

    send_due()

    survey = CsatSurvey.objects.get()
    assert (survey.conversation, survey.kind, survey.status) == (conversation, "nps", "sent")
    [request] = survey_requests(callback_server)
    assert request["kind"] == "nps"
    assert request["question"] == "How likely are you to recommend us to a friend or colleague?"
    assert [choice["value"] for choice in request["ratings"]] == list(range(11))


def test_nps_is_asked_once_per_interval_across_channels(nps_on, api_channel, operator):
    first = contact(api_channel, operator)
    sent_long_ago(first, days=30)
    other_channel = ChannelFactory(csat={"kind": "ces", "fatigue_days": 0})

    again = contact(api_channel, operator, customer=first.customer, address="u-2")
    elsewhere = contact(other_channel, operator, customer=first.customer, address="u-3")

    assert [kind_of(first), kind_of(again), kind_of(elsewhere)] == ["nps", "csat", "ces"]
    assert CsatSurvey.objects.filter(customer=first.customer).count() == 3


def test_nps_is_asked_again_once_the_interval_is_over(nps_on, api_channel, operator):
    first = contact(api_channel, operator)
    sent_long_ago(first, days=91)

    later = contact(api_channel, operator, customer=first.customer, address="u-2")

    assert kind_of(later) == "nps"


def test_two_contacts_resolved_before_either_survey_went_ask_nps_once(
    nps_on, api_channel, operator
):
    first = contact(api_channel, operator)
    second = contact(api_channel, operator, customer=first.customer, address="u-2")

    assert [kind_of(first), kind_of(second)] == ["nps", "csat"]


def test_an_nps_survey_skipped_for_a_reopened_contact_is_decided_anew(
    nps_on, api_channel, operator
):
    conversation = contact(api_channel, operator)
    conversation_reopen(conversation=conversation)
    CsatSurvey.objects.update(status=SurveyStatus.SKIPPED)

    conversation_resolve(conversation=conversation, resolved_by=operator)

    survey = CsatSurvey.objects.get()
    assert (survey.kind, survey.status) == ("nps", SurveyStatus.SCHEDULED)


def test_sampling_asks_a_stable_share_of_customers(nps_on):
    options = nps_settings_update(changes={"sample_percent": 30})
    now = timezone.now()

    asked = [nps.is_sampled(customer_id=i, options=options, now=now) for i in range(1, 1001)]
    tomorrow = [
        nps.is_sampled(customer_id=i, options=options, now=now + timedelta(days=1))
        for i in range(1, 1001)
    ]

    assert 230 <= sum(asked) <= 370
    assert sum(a == b for a, b in zip(asked, tomorrow, strict=True)) >= 980


def test_a_customer_outside_the_sample_gets_the_channels_survey(nps_on, api_channel, operator):
    nps_settings_update(changes={"sample_percent": 0})

    assert kind_of(contact(api_channel, operator)) == "csat"


def test_the_admins_question_is_asked_in_the_customers_language(
    nps_on, api_channel, operator, callback_server
):
    nps_settings_update(changes={"question": {"pl": "Czy polecisz nas znajomym?"}})
    conversation = contact(api_channel, operator)
    conversation.customer.language = "pl"
    conversation.customer.save()
    make_due(CsatSurvey.objects.get())

    send_due()

    [request] = survey_requests(callback_server)
    assert request["question"] == "Czy polecisz nas znajomym?"
    assert request["ratings"][0]["label"] == "Zupełnie nieprawdopodobne"


def test_a_typed_score_is_followed_by_the_reason_question_whose_answer_is_the_comment(
    nps_on, client, api_channel, operator, django_capture_on_commit_callbacks
):
    conversation = contact(api_channel, operator)
    conversation.customer.language = "ru"
    conversation.customer.save()
    make_due(CsatSurvey.objects.get())
    send_due()

    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(client, api_channel, api_payload(message_id="r-1", text="6"))
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(client, api_channel, api_payload(message_id="r-2", text="Долгая доставка"))

    survey = CsatSurvey.objects.get()
    assert (survey.rating, survey.comment) == (6, "Долгая доставка")
    [asked] = Message.objects.filter(conversation=conversation, direction="out", author=None)
    assert asked.body == "Какова главная причина вашей оценки?"
    conversation.refresh_from_db()
    assert conversation.status == "resolved"


def test_no_reason_question_when_the_settings_leave_it_out(
    nps_on, client, api_channel, operator, django_capture_on_commit_callbacks
):
    nps_settings_update(changes={"follow_up": False})
    conversation = contact(api_channel, operator)
    make_due(CsatSurvey.objects.get())
    send_due()

    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(client, api_channel, api_payload(message_id="r-1", text="10"))

    assert CsatSurvey.objects.get().rating == 10
    assert not Message.objects.filter(
        conversation=conversation, author=None, direction="out"
    ).exists()


def test_the_nps_page_asks_the_reason_beside_the_score(nps_on, client, api_channel, operator):
    contact(api_channel, operator)
    make_due(CsatSurvey.objects.get())
    send_due()

    page = client.get(f"/survey/{CsatSurvey.objects.get().token}/").content.decode()

    assert "What is the main reason for your score?" in page


# The settings API


def test_the_settings_read_their_defaults(admin_client_api):
    assert admin_client_api.get("/api/v1/settings/nps/").json() == {
        "enabled": False,
        "interval_days": 90,
        "sample_percent": 100,
        "question": None,
        "follow_up": True,
    }


def test_an_admin_changes_some_settings_and_the_rest_stay(admin_client_api):
    response = admin_client_api.patch(
        "/api/v1/settings/nps/",
        {"enabled": True, "interval_days": 30, "question": {"ru": "Порекомендуете нас?"}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "enabled": True,
        "interval_days": 30,
        "sample_percent": 100,
        "question": {"ru": "Порекомендуете нас?"},
        "follow_up": True,
    }
    reset = admin_client_api.patch("/api/v1/settings/nps/", {"question": None}, format="json")
    assert reset.json()["question"] is None
    assert nps_settings_get().interval_days == 30


@pytest.mark.parametrize(
    "body",
    [
        {"interval_days": 0},
        {"sample_percent": 101},
        {"question": ""},
        {"question": {"xx": "?"}},
        {"enabled": "sometimes"},
        {"colour": "blue"},
    ],
)
def test_bad_settings_are_a_json_400_and_change_nothing(admin_client_api, body):
    response = admin_client_api.patch("/api/v1/settings/nps/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(body)
    assert nps_settings_get().interval_days == 90
