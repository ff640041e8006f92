"""CSAT surveys on Viber: a keyboard of the five ratings whose press answers the survey
for the operator who helped; a typed number counts too."""

import pytest

from inbox.models import Conversation, SurveyStatus
from tests.channels_app.viber.helpers import callback, callback_body, post_callback
from tests.helpers import survey_sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_survey(client, viber_channel, operator):
    post_callback(client, viber_channel, callback_body("message_text"))
    Conversation.objects.update(assignee=operator)
    survey = survey_sent(conversation=Conversation.objects.get(), operator=operator)
    assert survey.status == SurveyStatus.SENT
    return survey


def test_a_press_on_the_keyboard_answers_the_survey_for_the_operator(
    client, viber_channel, fake_viber, sent_survey, operator, supervisor_client
):
    [question] = [call.payload for call in fake_viber.calls if "keyboard" in call.payload]
    # The customer's Viber is in Polish: so is the survey.
    assert question["text"].startswith("Jak oceniasz")
    buttons = question["keyboard"]["Buttons"]
    assert [button["Text"] for button in buttons] == ["1", "2", "3", "4", "5"]
    assert {button["ActionType"] for button in buttons} == {"reply"}
    press = callback("message_button")
    press["message"]["text"] = buttons[4]["ActionBody"]

    assert post_callback(client, viber_channel, press).status_code == 200

    sent_survey.refresh_from_db()
    assert (sent_survey.status, sent_survey.rating) == (SurveyStatus.ANSWERED, 5)
    report = supervisor_client.get("/api/v1/reports/csat/?group_by=operator").json()
    [row] = [row for row in report["results"] if row["responses"]]
    assert (row["group"]["id"], row["responses"], row["average_rating"]) == (
        operator.pk,
        1,
        5.0,
    )


def test_a_typed_number_answers_the_survey_too(client, viber_channel, sent_survey):
    typed = callback("message_text")
    typed["message_token"] += 1000
    typed["message"]["text"] = "3"

    post_callback(client, viber_channel, typed)

    sent_survey.refresh_from_db()
    assert (sent_survey.status, sent_survey.rating) == (SurveyStatus.ANSWERED, 3)


def test_a_press_on_another_surveys_button_answers_nothing(client, viber_channel, sent_survey):
    press = callback("message_button")
    press["message"]["text"] = "csat:someone-elses-token:5"

    post_callback(client, viber_channel, press)

    sent_survey.refresh_from_db()
    assert sent_survey.status == SurveyStatus.SENT


def test_a_message_soon_after_the_rating_is_kept_as_its_comment(
    client, viber_channel, fake_viber, sent_survey
):
    [question] = [call.payload for call in fake_viber.calls if "keyboard" in call.payload]
    press = callback("message_button")
    press["message"]["text"] = question["keyboard"]["Buttons"][3]["ActionBody"]
    post_callback(client, viber_channel, press)
    comment = callback("message_text")
    comment["message_token"] += 2000
    comment["message"]["text"] = "Kurier był bardzo miły"

    post_callback(client, viber_channel, comment)

    sent_survey.refresh_from_db()
    assert (sent_survey.rating, sent_survey.comment) == (4, "Kurier był bardzo miły")
    # The rating does not reopen the conversation.
    assert Conversation.objects.get().status == "resolved"


@pytest.mark.parametrize(
    ("kind", "values", "question"),
    [
        ("ces", range(1, 8), "Jak łatwo było załatwić Twoją sprawę?"),
        ("nps", range(0, 11), "Jak bardzo prawdopodobne jest, że polecisz nas"),
    ],
)
def test_ces_and_nps_keyboards_hold_their_whole_scale_six_to_a_row(
    client, viber_channel, fake_viber, operator, kind, values, question
):
    post_callback(client, viber_channel, callback_body("message_text"))
    survey = survey_sent(conversation=Conversation.objects.get(), operator=operator, kind=kind)

    [sent] = [call.payload for call in fake_viber.calls if "keyboard" in call.payload]
    assert sent["text"].startswith(question)
    buttons = sent["keyboard"]["Buttons"]
    assert [button["Text"] for button in buttons] == [str(value) for value in values]
    assert sent["keyboard"]["ButtonsGroupColumns"] <= 6
    press = callback("message_button")
    press["message"]["text"] = buttons[0]["ActionBody"]

    post_callback(client, viber_channel, press)

    survey.refresh_from_db()
    assert (survey.kind, survey.rating) == (kind, values[0])
