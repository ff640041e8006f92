"""`make demo`'s data: seeded through the real inbound paths, and safe to seed again."""

import json

import pytest

from channels_app.demo import DEMO_PASSWORD, seed_demo
from customers.models import Customer
from inbox.models import Conversation, Message, User

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_once_with_an_email_thread_folded_like_real_mail():
    seed_demo()
    counts = (Conversation.objects.count(), Message.objects.count())

    seed_demo()

    assert (Conversation.objects.count(), Message.objects.count()) == counts
    email = Message.objects.get(channel__kind="email")
    assert email.body.strip() == (
        "Hello, could you send the October invoice again? The PDF I got is empty."
    )
    assert "Novak Design" in email.body_full and "invoice attached" in email.body_full
    assert "<b>October invoice</b>" in email.body_html
    assert email.conversation.customer.name == "Lena Novak"


def test_the_demo_has_customers_writing_in_russian_and_polish():
    seed_demo()

    languages = dict(Customer.objects.values_list("name", "language"))
    assert languages["Ольга Смирнова"] == "ru"
    assert languages["Piotr Nowak"] == "pl"


def test_a_demo_in_russian_signs_its_people_in_to_russian_pages(settings, client):
    settings.LANGUAGE_CODE = "ru"
    seed_demo()

    client.force_login(User.objects.get(username="anna"))
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US")

    assert page["Content-Language"] == "ru"
    assert "Диалоги" in page.content.decode()


def test_a_demo_operator_works_in_a_time_zone_of_her_own(client):
    seed_demo()
    anna = User.objects.get(username="anna")
    client.force_login(anna)

    page = client.get("/").content.decode()

    assert anna.time_zone == "Europe/Moscow"
    assert 'data-time-zone="Europe/Moscow"' in page
    # The resolved conversation's event lines are worded for whoever reads them.
    resolved = Conversation.objects.get(status="resolved", channel__name="Demo API")
    events = client.get(
        f"/api/v1/conversations/{resolved.pk}/events/",
        HTTP_ACCEPT_LANGUAGE="pl",
    ).json()["results"]
    assert "Ben Okafor: rozwiązano rozmowę" in [event["text"] for event in events]


def test_the_demo_has_a_vk_community_and_a_viber_bot_with_a_customer_each():
    seed_demo()
    seed_demo()

    vk, viber = (Conversation.objects.get(channel__kind=kind) for kind in ("vk", "viber"))
    assert (vk.customer.language, viber.customer.language) == ("ru", "pl")
    assert viber.customer.name == "Katarzyna Wiśniewska"
    assert Message.objects.filter(conversation__in=[vk, viber]).count() == 2


def test_the_demo_stand_ins_answer_replies_as_vk_and_viber_do(rf):
    from channels_app.demo_views import viber_api_stand_in, vk_api_stand_in

    sent = vk_api_stand_in(rf.post("/demo/vk/method/messages.send"), method="messages.send")
    viber = viber_api_stand_in(rf.post("/demo/viber/pa/send_message"), name="send_message")

    assert isinstance(json.loads(sent.content)["response"], int)
    assert json.loads(viber.content)["status"] == 0
    assert json.loads(viber.content)["message_token"]


def test_the_demo_has_ces_and_nps_answers_for_the_reports(client):
    seed_demo()
    seed_demo()

    client.login(username="supervisor", password=DEMO_PASSWORD)
    nps = client.get("/api/v1/reports/nps/").json()["overall"]
    ces = client.get("/api/v1/reports/ces/").json()["overall"]
    assert (nps["responses"], nps["promoters"], nps["passives"], nps["detractors"]) == (4, 2, 1, 1)
    assert nps["nps"] == 25.0
    assert (ces["responses"], ces["average"], ces["easy_percent"]) == (4, 5.25, 75.0)
