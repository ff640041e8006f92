"""`make demo`'s data: seeded through the real inbound paths, and safe to seed again."""

import base64
import json
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from channels_app.demo import (
    DEMO_PASSWORD,
    DEMO_TWO_FACTOR_KEY,
    DEMO_TWO_FACTOR_USERNAME,
    seed_demo,
)
from channels_app.models import Channel
from customers.models import Customer
from inbox.models import BusinessHours, Conversation, Message, SlaPolicy, User
from tests.failure_reasons import reason_text

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
    # A customer's reaction is stored as data and read in Russian.
    reacted = Message.objects.exclude(content_items=[]).get()
    thread = client.get(f"/inbox/conversations/{reacted.conversation_id}/").json()
    assert "Реакция 👍" in thread["thread_html"]


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


def test_a_demo_operator_signs_in_with_two_steps(client):
    seed_demo()
    seed_demo()
    ben = User.objects.get(username=DEMO_TWO_FACTOR_USERNAME)
    device = TOTPDevice.objects.get(user=ben, confirmed=True)

    client.post("/login/", {"username": ben.username, "password": DEMO_PASSWORD})
    code = TOTP(base64.b32decode(DEMO_TWO_FACTOR_KEY)).token()
    answer = client.post("/login/code/", {"code": f"{code:06d}"})

    assert device.bin_key == base64.b32decode(DEMO_TWO_FACTOR_KEY)
    assert answer.status_code == 302 and client.get("/").status_code == 200


@pytest.mark.urls("tests.channels_app.demo_urls")
@pytest.mark.django_db(transaction=True)
def test_operator_replies_on_the_demo_vk_and_viber_channels_send(live_server, settings):
    from channels_app.services import message_deliver
    from channels_app.tasks import sender_name_fetch
    from inbox.services import message_reply

    settings.PUBLIC_BASE_URL = live_server.url
    seed_demo()
    anna = User.objects.get(username="anna")

    for kind in ("vk", "viber"):
        conversation = Conversation.objects.get(channel__kind=kind)
        reply = message_reply(conversation=conversation, author=anna, body="Уже смотрю")
        assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=1) is None
        reply.refresh_from_db()
        assert (reply.status, reason_text(reply)) == ("sent", "")
        assert reply.external_id

    # The demo's VK customer is named from the stand-in's users.get, screen name too.
    vk = Conversation.objects.get(channel__kind="vk")
    sender_name_fetch.apply(args=[vk.channel_id, vk.recipient_address], throw=True)
    vk.customer.refresh_from_db()
    assert vk.customer.name == "Дмитрий Орлов"
    assert vk.customer.identities.get().username == "dmitry.orlov"
    # The Viber customer's picture and the bot's own are served by this site.
    viber = Conversation.objects.get(channel__kind="viber")
    avatar = viber.customer.identities.get().avatar_url
    assert avatar.startswith(f"{live_server.url}/static/")
    assert finders.find(avatar.removeprefix(f"{live_server.url}/static/"))


def test_a_demo_seeded_for_another_port_moves_its_stand_ins_with_it(settings):
    seed_demo()
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8613"

    seed_demo()

    for channel in Channel.objects.filter(kind__in=["vk", "viber"]):
        assert channel.config["api_base_url"].startswith("http://127.0.0.1:8613/demo/")


def test_the_demo_instagram_conversation_shows_a_reaction_a_deletion_and_a_username():
    seed_demo()
    seed_demo()

    conversation = Conversation.objects.get(channel__kind="instagram")
    messages = {m.external_id: m for m in conversation.messages.all()}
    assert set(messages) == {"demo-ig-1", "demo-ig-2", "demo-ig-echo-1"}
    assert messages["demo-ig-2"].deleted_at is not None
    assert (messages["demo-ig-echo-1"].sent_from, messages["demo-ig-echo-1"].reaction) == (
        "Instagram",
        "❤️",
    )
    assert conversation.customer.name == "Zofia Kamińska"
    assert conversation.customer.identities.get().username == "zofia.kaminska"


def test_the_demo_graph_stand_in_answers_sends_and_profile_look_ups(rf):
    from channels_app.demo_meta import DEMO_INSTAGRAM_CUSTOMER
    from channels_app.demo_views import graph_api_stand_in

    sent = graph_api_stand_in(rf.post("/demo/graph/v26.0/1/messages"), path="v26.0/1/messages")
    profile = graph_api_stand_in(
        rf.get(f"/demo/graph/v26.0/{DEMO_INSTAGRAM_CUSTOMER}"),
        path=f"v26.0/{DEMO_INSTAGRAM_CUSTOMER}",
    )

    assert json.loads(sent.content)["message_id"].startswith("demo-")
    assert json.loads(profile.content)["username"] == "zofia.kaminska"


def test_the_demo_shows_a_calendar_a_policy_and_conversations_near_and_past_due(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo()
    seed_demo()

    office = BusinessHours.objects.get()
    assert office.weekly["mon"] == [["09:00", "13:00"], ["14:00", "18:00"]]
    assert office.holidays and office.yearly_holidays
    standard = SlaPolicy.objects.get(name="Standard")
    assert standard.business_hours == office
    jonas = Conversation.objects.get(customer__name="Jonas Weber")
    olga = Conversation.objects.get(customer__name="Ольга Смирнова")
    assert jonas.sla_policy == standard and not jonas.first_response_breached
    assert jonas.first_response_due_at - timezone.now() < timedelta(minutes=10)
    assert olga.first_response_breached
    assert (
        Conversation.objects.filter(channel=jonas.channel, first_response_breached=True).count()
        == 1
    )
    # Every colour of the inbox's countdowns: calm, amber (a quarter of the hour or less
    # left) and red.
    left = {
        conversation.customer.name: conversation.first_response_due_at - timezone.now()
        for conversation in Conversation.objects.filter(
            first_response_due_at__isnull=False, first_response_breached=False
        ).select_related("customer")
    }
    assert left["Lena Novak"] > timedelta(minutes=15)
    assert timedelta(minutes=10) < left["Piotr Nowak"] <= timedelta(minutes=15)


def test_the_demo_has_ces_and_nps_answers_for_the_reports(client):
    seed_demo()
    seed_demo()

    client.login(username="supervisor", password=DEMO_PASSWORD)
    nps = client.get("/api/v1/reports/nps/").json()["overall"]
    ces = client.get("/api/v1/reports/ces/").json()["overall"]
    assert (nps["responses"], nps["promoters"], nps["passives"], nps["detractors"]) == (4, 2, 1, 1)
    assert nps["nps"] == 25.0
    assert (ces["responses"], ces["average"], ces["easy_percent"]) == (4, 5.25, 75.0)


def test_the_demo_has_a_whatsapp_survey_due_as_the_template_and_surveys_that_never_reached():
    from channels_app.demo_whatsapp import DEMO_SURVEY_TEMPLATE
    from inbox.models import CsatSurvey

    seed_demo()
    seed_demo()

    whatsapp = Conversation.objects.get(channel__kind="whatsapp")
    assert whatsapp.channel.config["survey_template"] == DEMO_SURVEY_TEMPLATE
    assert whatsapp.status == "resolved"
    assert CsatSurvey.objects.get(conversation=whatsapp).status == "scheduled"
    not_reached = CsatSurvey.objects.filter(status__in=["skipped", "failed"])
    assert set(not_reached.values_list("reason_code", flat=True)) >= {
        "window_closed",
        "no_template",
        "unreachable",
        "platform_error",
    }


def test_the_graph_stand_in_answers_a_whatsapp_send_as_the_cloud_api_does(rf):
    from channels_app.demo_views import graph_api_stand_in

    request = rf.post(
        "/demo/graph/v26.0/106540352242922/messages",
        data=json.dumps({"messaging_product": "whatsapp", "to": "48601234567"}),
        content_type="application/json",
    )

    answer = json.loads(graph_api_stand_in(request, path="v26.0/106540352242922/messages").content)

    assert answer["messages"][0]["id"].startswith("demo-")


def test_the_demo_has_two_months_of_history_for_the_response_time_page(client):
    seed_demo()
    seed_demo()

    client.login(username="supervisor", password=DEMO_PASSWORD)
    report = client.get("/api/v1/reports/conversations/").json()
    [shop] = [row for row in report["by_channel"] if row["group"]["name"] == "Demo web shop"]
    assert shop["volume"] > 60
    assert shop["first_response_business"]["median_seconds"] is not None
    assert 0 < shop["sla_met_percent"] < 100
    page = client.get("/reports/response-times/").content.decode()
    # Anna answers faster than the month before (Ben's figures also hold the other demo
    # channels' conversations, which move less).
    anna = User.objects.get(username="anna")
    row = page.split(f'data-operator-id="{anna.pk}"')[1].split("</tr>")[0]
    assert "▼" in row.split('data-field="first_response_median"')[1].split("</td>")[0]
    assert 'class="heat-4"' in page
    assert (
        not Channel.objects.get(name="Demo web shop")
        .conversations.filter(csat_survey__isnull=False)
        .exists()
    )


def test_the_demo_follows_up_its_low_scores_and_has_customers_at_each_risk_level():
    from inbox.follow_ups.models import SurveyFollowUp

    seed_demo()
    seed_demo()

    follow_ups = SurveyFollowUp.objects.select_related("survey").order_by("survey_id")
    assert [(f.survey.kind, f.survey.rating) for f in follow_ups] == [("ces", 3), ("nps", 4)]
    assert [f.status for f in follow_ups] == ["resolved", "open"]
    assert follow_ups[0].note
    risks = dict(Customer.objects.values_list("name", "health_risk"))
    assert (risks["Lucas Martin"], risks["Tom Baker"], risks["Eva Novak"]) == (
        "high",
        "medium",
        "low",
    )


def test_the_demo_operator_finds_a_mention_and_a_conversation_given_to_her(client):
    seed_demo()
    anna = User.objects.get(username="anna")
    client.force_login(anna)

    listed = client.get("/api/v1/notifications/").json()

    assert listed["unread"] >= 2
    kinds = {item["kind"] for item in listed["results"]}
    assert {"mention", "assigned"} <= kinds
    mention = next(item for item in listed["results"] if item["kind"] == "mention")
    assert mention["actor"]["name"].startswith("Ben")
    assert mention["excerpt"].startswith("@anna the courier called back")
