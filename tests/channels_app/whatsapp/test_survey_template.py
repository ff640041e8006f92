"""A WhatsApp survey outside the 24-hour customer service window goes as the channel's
approved survey template, in the customer's language, and its answer counts; without a
template (or one that cannot carry the survey) it is skipped with the reason, not failed,
and nothing is sent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.services import channel_update
from inbox import csat
from inbox.models import Conversation, CsatSurvey, SurveyStatus
from inbox.services import message_reply
from tests.channels_app.whatsapp.helpers import WA_ID, first_message, fixture_json, post_payload
from tests.fakes.whatsapp import ApprovedTemplate
from tests.helpers import surveys_sent_after_resolving

pytestmark = pytest.mark.django_db

QUICK_REPLY_TEMPLATE = {
    "name": "rate_us_buttons",
    "languages": {"en": "en_US", "ru": "ru", "pl": "pl"},
    "buttons": "quick_reply",
}
URL_TEMPLATE = {"name": "rate_us_link", "languages": {"en": "en_US"}, "buttons": "url"}


def helped_days_ago(client, channel, operator, *, days: float, language: str = "") -> Conversation:
    """The customer wrote `days` ago (WhatsApp's timestamp) and an operator answered."""
    payload = fixture_json("text")
    first_message(payload)["timestamp"] = str(
        int((timezone.now() - timedelta(days=days)).timestamp())
    )
    assert post_payload(client, channel, payload).status_code == 200
    conversation = Conversation.objects.get(channel=channel, recipient_address=WA_ID)
    if language:
        conversation.customer.language = language
        conversation.customer.save(update_fields=["language"])
    message_reply(conversation=conversation, author=operator, body="Done!")
    return conversation


def template_messages(graph_api) -> list[dict]:
    return [sent["template"] for sent in graph_api.sent_messages if sent["type"] == "template"]


def test_outside_the_window_the_survey_goes_as_the_quick_reply_template_in_the_customers_language(
    client, whatsapp_channel, operator, graph_api
):
    channel_update(channel=whatsapp_channel, config={"survey_template": QUICK_REPLY_TEMPLATE})
    conversation = helped_days_ago(client, whatsapp_channel, operator, days=3, language="ru")

    surveys_sent_after_resolving(conversation, operator)

    survey = CsatSurvey.objects.get()
    assert (survey.status, survey.language) == (SurveyStatus.SENT, "ru")
    [template] = template_messages(graph_api)
    assert (template["name"], template["language"]) == ("rate_us_buttons", {"code": "ru"})
    buttons = template["components"]
    assert [(b["sub_type"], b["index"]) for b in buttons] == [
        ("quick_reply", str(index)) for index in range(5)
    ]
    assert [b["parameters"][0]["payload"] for b in buttons] == [
        csat.csat_button_payload(survey, rating) for rating in (5, 4, 3, 2, 1)
    ]

    # The customer taps the second button, "4".
    answer = fixture_json("button")
    first_message(answer)["timestamp"] = str(int(timezone.now().timestamp()))
    first_message(answer)["button"] = {
        "payload": buttons[1]["parameters"][0]["payload"],
        "text": "Хорошо",
    }
    assert post_payload(client, whatsapp_channel, answer).status_code == 200

    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 4)


def test_a_url_template_links_to_the_survey_page_and_carries_any_kind(
    client, whatsapp_channel, operator, graph_api
):
    channel_update(channel=whatsapp_channel, config={"survey_template": URL_TEMPLATE})
    conversation = helped_days_ago(client, whatsapp_channel, operator, days=2, language="pl")

    surveys_sent_after_resolving(conversation, operator, kind="nps")

    survey = CsatSurvey.objects.get()
    assert survey.status == SurveyStatus.SENT
    [template] = template_messages(graph_api)
    # No Polish version: the installation's language.
    assert template["language"] == {"code": "en_US"}
    assert template["components"] == [
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": survey.token}],
        }
    ]
    page = client.post(f"/survey/{survey.token}/", {"rating": "9"})
    assert page.status_code == 200
    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 9)


def test_without_a_template_the_survey_is_skipped_with_the_reason_and_nothing_is_sent(
    client, whatsapp_channel, operator, graph_api
):
    conversation = helped_days_ago(client, whatsapp_channel, operator, days=3)
    channel_update(
        channel=whatsapp_channel, config={"fallback_template": {"name": "x", "language": "en"}}
    )
    sent_before = len(graph_api.sent_messages)

    surveys_sent_after_resolving(conversation, operator)

    survey = CsatSurvey.objects.get()
    assert (survey.status, survey.reason_code) == (SurveyStatus.SKIPPED, "no_template")
    assert "survey_template" in survey.skip_reason
    assert len(graph_api.sent_messages) == sent_before


def test_a_quick_reply_template_cannot_carry_nps_so_that_survey_is_skipped(
    client, whatsapp_channel, operator, graph_api
):
    channel_update(channel=whatsapp_channel, config={"survey_template": QUICK_REPLY_TEMPLATE})
    conversation = helped_days_ago(client, whatsapp_channel, operator, days=3)

    surveys_sent_after_resolving(conversation, operator, kind="nps")

    survey = CsatSurvey.objects.get()
    assert (survey.status, survey.reason_code) == (SurveyStatus.SKIPPED, "no_template")
    assert template_messages(graph_api) == []


def test_a_template_meta_does_not_know_fails_the_survey_with_metas_words(
    client, whatsapp_channel, operator, graph_api
):
    graph_api.templates.append(ApprovedTemplate("rate_us_buttons", ("en_US",), quick_replies=7))
    channel_update(channel=whatsapp_channel, config={"survey_template": QUICK_REPLY_TEMPLATE})
    conversation = helped_days_ago(client, whatsapp_channel, operator, days=3)

    surveys_sent_after_resolving(conversation, operator)

    survey = CsatSurvey.objects.get()
    assert (survey.status, survey.reason_code) == (SurveyStatus.FAILED, "platform_error")
    assert "132000" in survey.skip_reason


def test_inside_the_window_the_native_list_goes_even_with_a_template(
    client, whatsapp_channel, operator, graph_api
):
    channel_update(channel=whatsapp_channel, config={"survey_template": QUICK_REPLY_TEMPLATE})
    conversation = helped_days_ago(client, whatsapp_channel, operator, days=0.1)

    surveys_sent_after_resolving(conversation, operator)

    assert CsatSurvey.objects.get().status == SurveyStatus.SENT
    assert template_messages(graph_api) == []
    assert graph_api.sent_messages[-1]["type"] == "interactive"


def test_a_template_stored_unusable_skips_the_survey_rather_than_breaking_it(
    client, whatsapp_channel, operator, graph_api
):
    # Django admin edits the raw JSON, unchecked.
    whatsapp_channel.config["survey_template"] = {"name": "rate_us", "buttons": "list"}
    whatsapp_channel.save()
    conversation = helped_days_ago(client, whatsapp_channel, operator, days=3)

    surveys_sent_after_resolving(conversation, operator)

    survey = CsatSurvey.objects.get()
    assert (survey.status, survey.reason_code) == (SurveyStatus.SKIPPED, "no_template")
    assert "survey_template cannot be used" in survey.skip_reason
    assert template_messages(graph_api) == []
