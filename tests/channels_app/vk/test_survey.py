"""CSAT surveys on VK: the keyboard the customer's app shows, a press answering the
survey for the operator who helped, and callback presses acknowledged."""

import json

import pytest
from django.core.cache import cache
from django.utils import timezone

from channels_app.services import csat_survey_send
from inbox import csat
from inbox.models import Conversation, CsatSurvey, SurveyStatus
from tests.channels_app.vk.helpers import MARIA_ID, event, post_event
from tests.helpers import survey_sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey_sent_after(client, django_capture_on_commit_callbacks):
    return lambda *args, **kwargs: _survey_sent_after(
        client, django_capture_on_commit_callbacks, *args, **kwargs
    )


def _survey_sent_after(client, capture_on_commit, channel, operator, *, client_info):
    first = event("message_new_text")
    first["object"]["client_info"] = client_info
    with capture_on_commit(execute=True):
        post_event(client, channel, first)
    # What the app shows is kept with the customer, not in a cache that may be emptied.
    cache.clear()
    Conversation.objects.update(assignee=operator)
    survey = survey_sent(conversation=Conversation.objects.get(), operator=operator)
    assert survey.status == SurveyStatus.SENT
    return survey


def keyboard_of(fake_vk):
    [question] = [sent for sent in fake_vk.sent if "keyboard" in sent]
    return question, json.loads(question["keyboard"])


CALLBACK_APP = {
    "button_actions": ["text", "callback", "open_link"],
    "keyboard": True,
    "inline_keyboard": True,
    "lang_id": 0,
}


def test_callback_buttons_answer_the_survey_for_the_operator_and_show_the_thanks(
    client,
    survey_sent_after,
    vk_channel,
    fake_vk,
    operator,
    supervisor_client,
    django_capture_on_commit_callbacks,
):
    survey = survey_sent_after(vk_channel, operator, client_info=CALLBACK_APP)
    question, keyboard = keyboard_of(fake_vk)
    assert keyboard["inline"] is True
    [buttons] = keyboard["buttons"]
    assert [button["action"]["type"] for button in buttons] == ["callback"] * 5
    assert [button["action"]["label"] for button in buttons] == ["1", "2", "3", "4", "5"]
    # The customer's app is in Russian (lang_id 0): so is the survey.
    assert question["message"].startswith("Как вы оцениваете")
    press = event("message_event")
    press["object"]["payload"] = json.loads(buttons[3]["action"]["payload"])

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, vk_channel, press)

    assert response.content == b"ok"
    survey.refresh_from_db()
    assert (survey.status, survey.rating, survey.operator) == (SurveyStatus.ANSWERED, 4, operator)
    [answer] = fake_vk.calls_to("messages.sendMessageEventAnswer")
    assert (answer.params["event_id"], answer.params["user_id"]) == ("3159dc190b1f", MARIA_ID)
    assert json.loads(answer.params["event_data"]) == {
        "type": "show_snackbar",
        "text": "Спасибо за ваш отзыв!",
    }
    report = supervisor_client.get("/api/v1/reports/csat/?group_by=operator").json()
    [row] = [row for row in report["results"] if row["responses"]]
    assert (row["group"]["id"], row["responses"], row["average_rating"]) == (
        operator.pk,
        1,
        4.0,
    )


def test_an_app_without_callback_buttons_gets_text_buttons_whose_press_answers(
    client, survey_sent_after, vk_channel, fake_vk, operator
):
    survey = survey_sent_after(
        vk_channel,
        operator,
        client_info={"button_actions": ["text"], "keyboard": True, "inline_keyboard": False},
    )
    _, keyboard = keyboard_of(fake_vk)
    assert keyboard["one_time"] is True
    [buttons] = keyboard["buttons"]
    assert {button["action"]["type"] for button in buttons} == {"text"}
    press = event("message_new_text_button")
    press["object"]["message"]["payload"] = buttons[1]["action"]["payload"]
    press["object"]["message"]["text"] = "2"

    assert post_event(client, vk_channel, press).content == b"ok"

    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 2)


def test_an_app_without_keyboards_is_asked_for_a_number_which_answers(
    client, survey_sent_after, vk_channel, fake_vk, operator
):
    survey = survey_sent_after(vk_channel, operator, client_info={"keyboard": False, "lang_id": 3})
    [question] = fake_vk.sent[-1:]
    assert "keyboard" not in question
    assert question["message"].endswith("Reply with a number from 1 to 5.")
    reply = event("message_new_text")
    reply["object"]["message"].update(id=340, text="5")

    post_event(client, vk_channel, reply)

    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 5)


def test_a_press_on_a_stale_button_is_acknowledged_and_answers_nothing(
    client, vk_channel, fake_vk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, vk_channel, event("message_event"))

    assert response.content == b"ok"
    assert CsatSurvey.objects.count() == 0
    assert len(fake_vk.calls_to("messages.sendMessageEventAnswer")) == 1


def test_a_survey_whose_answer_was_lost_is_tried_again_and_vk_sends_it_once(
    client, vk_channel, fake_vk, operator
):
    post_event(client, vk_channel, event("message_new_text"))
    Conversation.objects.update(assignee=operator)
    fake_vk.lose_next_answer("messages.send")

    survey = survey_sent(conversation=Conversation.objects.get(), operator=operator)
    assert survey.status == SurveyStatus.SCHEDULED

    CsatSurvey.objects.update(due_at=timezone.now())
    for survey_id in csat.csat_surveys_queue_due():
        csat_survey_send(survey_id=survey_id)

    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT
    first, second = fake_vk.calls_to("messages.send")
    assert first.params["random_id"] == second.params["random_id"]
    assert [sent["random_id"] for sent in fake_vk.sent].count(first.params["random_id"]) == 1


def test_a_customer_whose_app_never_said_gets_text_buttons(client, vk_channel, fake_vk, operator):
    silent = event("message_new_text")
    del silent["object"]["client_info"]
    post_event(client, vk_channel, silent)
    Conversation.objects.update(assignee=operator)

    survey_sent(conversation=Conversation.objects.get(), operator=operator)

    _, keyboard = keyboard_of(fake_vk)
    assert keyboard["one_time"] is True
    assert {button["action"]["type"] for button in keyboard["buttons"][0]} == {"text"}


def test_a_message_soon_after_a_button_press_is_kept_as_the_ratings_comment(
    client, survey_sent_after, vk_channel, fake_vk, operator, django_capture_on_commit_callbacks
):
    survey = survey_sent_after(vk_channel, operator, client_info=CALLBACK_APP)
    _, keyboard = keyboard_of(fake_vk)
    press = event("message_event")
    press["object"]["payload"] = json.loads(keyboard["buttons"][0][4]["action"]["payload"])
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, vk_channel, press)
    comment = event("message_new_text")
    comment["event_id"] = "comment"
    comment["object"]["message"].update(id=341, text="Спасибо, всё быстро решили")

    post_event(client, vk_channel, comment)

    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (5, "Спасибо, всё быстро решили")


def test_a_ces_survey_is_an_inline_keyboard_in_two_rows(
    survey_sent_after, vk_channel, fake_vk, operator
):
    vk_channel.csat = {"kind": "ces"}
    vk_channel.save()

    survey_sent_after(vk_channel, operator, client_info=CALLBACK_APP)

    question, keyboard = keyboard_of(fake_vk)
    assert keyboard["inline"] is True
    assert [[button["action"]["label"] for button in row] for row in keyboard["buttons"]] == [
        ["1", "2", "3", "4"],
        ["5", "6", "7"],
    ]
    assert question["message"].startswith("Насколько легко было решить ваш вопрос?")
    assert "7 — очень легко" in question["message"]


def test_an_nps_survey_too_long_for_an_inline_keyboard_goes_with_text_buttons(
    client, vk_channel, fake_vk, operator, django_capture_on_commit_callbacks
):
    first = event("message_new_text")
    first["object"]["client_info"] = CALLBACK_APP
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, vk_channel, first)
    survey = survey_sent(conversation=Conversation.objects.get(), operator=operator, kind="nps")

    _, keyboard = keyboard_of(fake_vk)
    assert keyboard["one_time"] is True and "inline" not in keyboard
    rows = [[button["action"]["label"] for button in row] for row in keyboard["buttons"]]
    assert rows == [["0", "1", "2", "3"], ["4", "5", "6", "7"], ["8", "9", "10"]]
    assert all(button["action"]["type"] == "text" for row in keyboard["buttons"] for button in row)
    assert survey.status == SurveyStatus.SENT
