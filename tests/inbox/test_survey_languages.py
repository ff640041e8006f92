"""A customer is surveyed in their language: the one their platform gave, else their
channel's, else the installation's; the survey page follows and offers a switch."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.services import channel_create
from channels_app.services.survey_dispatch import csat_surveys_send
from customers.models import Customer
from inbox import csat
from inbox.models import Conversation, CsatSurvey, SurveyStatus
from inbox.services import conversation_resolve, message_reply
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.django_db

SECRET = "hook"


def telegram_update(*, update_id: int, user_id: int, text: str, language_code: str | None):
    sender = {"id": user_id, "is_bot": False, "first_name": "Olga"}
    if language_code is not None:
        sender["language_code"] = language_code
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "from": sender,
                "chat": {"id": user_id, "type": "private", "first_name": "Olga"},
                "date": int(timezone.now().timestamp()),
                "text": text,
            },
        }
    )


def write(client, channel, **update) -> Conversation:
    response = client.post(
        f"/webhooks/telegram/{channel.public_id}/",
        data=telegram_update(**update),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )
    assert response.status_code == 200, response.content
    return Conversation.objects.get(recipient_address=str(update["user_id"]))


def surveyed(conversation: Conversation, operator) -> CsatSurvey:
    message_reply(conversation=conversation, author=operator, body="Готово.")
    conversation_resolve(conversation=conversation, resolved_by=operator)
    CsatSurvey.objects.filter(conversation=conversation).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    csat_surveys_send(survey_ids=csat.csat_surveys_queue_due())
    return CsatSurvey.objects.get(conversation=conversation)


def survey_sent_to(fake_platform, chat_id: int) -> dict:
    [request] = [r for r in fake_platform.received if r.conversation == str(chat_id)]
    return request.body


def test_telegrams_language_code_is_the_customers_and_the_survey_is_in_it(
    client, platform_bot, operator, fake_platform
):
    conversation = write(
        client, platform_bot, update_id=1, user_id=501, text="Где мой заказ?", language_code="ru"
    )
    assert conversation.customer.language == "ru"

    survey = surveyed(conversation, operator)

    assert survey.status == SurveyStatus.SENT
    assert survey.language == "ru"
    sent = survey_sent_to(fake_platform, 501)
    assert sent["text"] == ("Как вы оцениваете полученную помощь?\n1 — очень плохо, 5 — отлично")
    buttons = sent["reply_markup"]["inline_keyboard"][0]
    assert [button["text"] for button in buttons] == ["1", "2", "3", "4", "5"]


def test_a_customer_whose_language_is_not_known_gets_the_channels(
    client, platform_bot, operator, fake_platform
):
    platform_bot.config = {**platform_bot.config, "language": "pl"}
    platform_bot.save()
    # A language the product does not speak counts as not known.
    conversation = write(
        client, platform_bot, update_id=2, user_id=502, text="Hallo", language_code="de"
    )
    assert conversation.customer.language == ""

    survey = surveyed(conversation, operator)

    assert survey.language == "pl"
    assert survey_sent_to(fake_platform, 502)["text"].startswith("Jak oceniasz otrzymaną pomoc?")


def test_with_nothing_known_the_installations_language_is_used(
    client, platform_bot, operator, fake_platform, settings
):
    settings.LANGUAGE_CODE = "ru"
    conversation = write(
        client, platform_bot, update_id=3, user_id=503, text="hi", language_code=None
    )

    survey = surveyed(conversation, operator)

    assert survey.language == "ru"


def test_a_channels_own_question_per_language_wins_over_the_catalogue(
    client, platform_bot, operator, fake_platform
):
    platform_bot.csat = {"question": {"ru": "Вам помогли?"}}
    platform_bot.save()
    russian = write(client, platform_bot, update_id=4, user_id=504, text="a", language_code="ru")
    polish = write(client, platform_bot, update_id=5, user_id=505, text="b", language_code="pl")

    surveyed(russian, operator)
    surveyed(polish, operator)

    assert survey_sent_to(fake_platform, 504)["text"].startswith("Вам помогли?\n")
    # No Polish text given: the catalogue's.
    assert survey_sent_to(fake_platform, 505)["text"].startswith("Jak oceniasz otrzymaną pomoc?")


def test_a_known_customer_keeps_the_language_an_operator_set(client, platform_bot):
    conversation = write(
        client, platform_bot, update_id=6, user_id=506, text="a", language_code="ru"
    )
    Customer.objects.filter(pk=conversation.customer_id).update(language="pl")

    write(client, platform_bot, update_id=7, user_id=506, text="b", language_code="ru")

    assert Customer.objects.get(pk=conversation.customer_id).language == "pl"


@pytest.fixture
def fake_telegram():
    fake = FakeTelegram(token="123:ABC").start()
    yield fake
    fake.stop()


def test_the_thanks_after_a_telegram_button_is_in_the_customers_language(
    client, operator, fake_telegram, django_capture_on_commit_callbacks
):
    config = {"bot_token": "123:ABC", "webhook_secret": SECRET, "api_base_url": fake_telegram.url}
    bot = channel_create(kind="telegram", name="Sklep", config=config)
    conversation = write(client, bot, update_id=8, user_id=508, text="a", language_code="pl")
    survey = surveyed(conversation, operator)
    [question] = fake_telegram.calls_to("sendMessage")[-1:]
    assert question.params["text"].startswith("Jak oceniasz otrzymaną pomoc?")
    press = {
        "update_id": 9,
        "callback_query": {
            "id": "cb-1",
            "from": {"id": 508, "is_bot": False, "first_name": "Olga", "language_code": "pl"},
            "message": {
                "message_id": int(survey.external_id.split(":")[1]),
                "chat": {"id": 508, "type": "private"},
                "date": int(timezone.now().timestamp()),
                "text": question.params["text"],
            },
            "data": csat.csat_button_payload(survey, 5),
        },
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/webhooks/telegram/{bot.public_id}/",
            data=json.dumps(press),
            content_type="application/json",
            HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
        )

    assert response.status_code == 200
    assert CsatSurvey.objects.get(pk=survey.pk).rating == 5
    [thanks] = fake_telegram.calls_to("editMessageText")
    assert thanks.params["text"] == "Dziękujemy za opinię!"


@pytest.fixture
def sent_survey(client, platform_bot, operator, fake_platform):
    conversation = write(
        client, platform_bot, update_id=10, user_id=510, text="a", language_code="ru"
    )
    return surveyed(conversation, operator)


def test_the_survey_page_speaks_the_surveys_language_and_offers_a_switch(client, sent_survey):
    page = client.get(f"/survey/{sent_survey.token}/")

    assert page.status_code == 200
    assert page["Content-Language"] == "ru"
    html = page.content.decode()
    assert '<html lang="ru">' in html
    assert "Как вы оцениваете полученную помощь?" in html
    assert "Отлично" in html and "Отправить" in html
    assert "Excellent" not in html and "Comment" not in html

    polish = client.get(f"/survey/{sent_survey.token}/?lang=pl").content.decode()
    assert "Jak oceniasz otrzymaną pomoc?" in polish and "Wyślij" in polish
    # The browser's own language does not move it: the survey's does.
    english_browser = client.get(f"/survey/{sent_survey.token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Отправить" in english_browser.content.decode()


def test_an_answer_and_its_errors_come_back_in_the_chosen_language(client, sent_survey):
    missing = client.post(f"/survey/{sent_survey.token}/?lang=pl", {"comment": "x"})
    assert missing.status_code == 400
    assert "Wybierz ocenę od 1 do 5." in missing.content.decode()

    answered = client.post(f"/survey/{sent_survey.token}/", {"rating": "5"})
    assert "Спасибо за ваш отзыв!" in answered.content.decode()

    again = client.post(f"/survey/{sent_survey.token}/?lang=pl", {"rating": "1"})
    assert again.status_code == 409
    assert "Na tę ankietę już odpowiedziano." in again.content.decode()


def test_a_bad_link_is_answered_in_the_browsers_language(client, sent_survey):
    page = client.get("/survey/not-a-token/", HTTP_ACCEPT_LANGUAGE="pl-PL,pl;q=0.9")
    assert page.status_code == 404
    assert "Ten link do ankiety jest nieprawidłowy." in page.content.decode()


def test_an_operator_sets_a_customers_language_in_their_profile(admin_client_api, sent_survey):
    url = f"/api/v1/customers/{sent_survey.customer_id}/"
    assert admin_client_api.get(url).json()["language"] == "ru"

    changed = admin_client_api.patch(url, {"language": "pl"}, format="json")
    refused = admin_client_api.patch(url, {"language": "de"}, format="json")

    assert changed.status_code == 200 and changed.json()["language"] == "pl"
    assert refused.status_code == 400
    assert Customer.objects.get(pk=sent_survey.customer_id).language == "pl"
    listed = admin_client_api.get("/api/v1/customers/").json()["results"]
    assert [row["language"] for row in listed] == ["pl"]


def test_a_survey_mail_is_written_in_the_customers_language(operator, smtp_sink):
    from channels_app.services import mail_receive
    from tests.channels_app.email.helpers import customer_mail, deliver_reply
    from tests.factories import ChannelFactory

    channel = ChannelFactory(
        kind="email",
        name="Sklep",
        config={
            "address": "pomoc@sklep.example",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
        },
    )
    mail_receive(channel=channel, raw=customer_mail(sender="jan@example.pl")[0])
    conversation = Conversation.objects.get()
    Customer.objects.filter(pk=conversation.customer_id).update(language="pl")
    deliver_reply(conversation, operator, "Gotowe.")

    survey = surveyed(conversation, operator)

    assert survey.language == "pl"
    sent = smtp_sink.mails[-1].message
    assert sent["Subject"] == "Jak nam poszło?"
    text = sent.get_body(("plain",)).get_content()
    assert text.startswith("Jak oceniasz otrzymaną pomoc?")
    assert "Doskonale: " in text and "Bardzo źle: " in text


@pytest.mark.parametrize(
    ("content_language", "language"), [("pl-PL, en", "pl"), ("ru", "ru"), ("de", ""), (None, "")]
)
def test_an_emails_content_language_is_the_new_customers(smtp_sink, content_language, language):
    from channels_app.services import mail_receive
    from tests.channels_app.email.helpers import customer_mail
    from tests.factories import ChannelFactory

    channel = ChannelFactory(kind="email", config={"address": "pomoc@sklep.example"})
    raw, _ = customer_mail(sender="jan@example.pl")
    if content_language:
        raw = raw.replace(
            b"\nSubject:", f"\nContent-Language: {content_language}\nSubject:".encode()
        )

    mail_receive(channel=channel, raw=raw)

    assert Conversation.objects.get().customer.language == language
