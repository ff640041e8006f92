"""WhatsApp surveys outside the 24-hour window with real processes: a Celery worker on
Redis sends the channel's approved survey template to the fake Graph API in the
customer's language, the customer's tap on a quick-reply button comes back through the
live webhook and is counted; with no template the next survey is skipped with that
reason, and the report says so."""

import json
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from channels_app.services import channel_update
from config.celery import app as celery_app
from customers.models import Customer
from inbox import people
from inbox.csat import SWEEP_TASK
from inbox.models import Conversation, CsatSurvey, MessageDirection, MessageStatus, SurveyStatus
from inbox.services import conversation_resolve
from tests.channels_app.whatsapp.helpers import (
    APP_SECRET,
    first_message,
    fixture_json,
    whatsapp_config,
)
from tests.factories import MessageFactory
from tests.fakes.whatsapp import ApprovedTemplate, FakeGraphApi
from tests.helpers import channel_serving, sign
from tests.live.conftest import wait_until

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

SURVEY_TEMPLATE = {
    "name": "rate_us_buttons",
    "languages": {"en": "en_US", "ru": "ru"},
    "buttons": "quick_reply",
}


@pytest.fixture
def graph_api():
    # Meta knows the template in English and Russian, with five quick-reply buttons.
    approved = ApprovedTemplate("rate_us_buttons", ("en_US", "ru"), quick_replies=5)
    with FakeGraphApi(templates=[approved]) as fake:
        yield fake


@pytest.fixture
def whatsapp_channel(team, graph_api):
    config = whatsapp_config(graph_api, survey_template=SURVEY_TEMPLATE)
    channel = channel_serving(team, kind="whatsapp", name="WhatsApp support", config=config)
    # Due an hour later at first: no sweep of its own; the test makes each survey due.
    channel.csat = {**channel.csat, "delay_seconds": 3600, "fatigue_days": 0}
    channel.save()
    return channel


def post_to_live_webhook(live_server_url: str, channel, payload: dict) -> None:
    body = json.dumps(payload).encode()
    answer = httpx.post(
        f"{live_server_url}/webhooks/whatsapp/{channel.public_id}/",
        content=body,
        headers={"content-type": "application/json", "x-hub-signature-256": sign(body, APP_SECRET)},
    )
    assert answer.status_code == 200, answer.text


def customer_wrote(live_server_url, channel, *, wa_id: str, days_ago: float, message_id: str):
    payload = fixture_json("text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": f"Customer {wa_id}"}, "wa_id": wa_id}]
    message = first_message(payload)
    message.pop("from_user_id", None)
    message.update(
        {
            "from": wa_id,
            "id": message_id,
            "timestamp": str(int((timezone.now() - timedelta(days=days_ago)).timestamp())),
        }
    )
    post_to_live_webhook(live_server_url, channel, payload)
    wait_until(
        lambda: Conversation.objects.filter(recipient_address=wa_id).exists(),
        timeout=15,
        what=f"the conversation of {wa_id}",
    )
    return Conversation.objects.get(recipient_address=wa_id)


def helped_and_resolved(conversation, operator) -> CsatSurvey:
    MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.SENT,
        author=operator,
        body="Done!",
    )
    conversation_resolve(conversation=conversation, resolved_by=operator)
    CsatSurvey.objects.filter(conversation=conversation).update(due_at=timezone.now())
    celery_app.send_task(SWEEP_TASK)
    return CsatSurvey.objects.get(conversation=conversation)


def settled(survey: CsatSurvey) -> CsatSurvey:
    wait_until(
        lambda: (
            CsatSurvey.objects.get(pk=survey.pk).status
            in (SurveyStatus.SENT, SurveyStatus.SKIPPED, SurveyStatus.FAILED)
        ),
        timeout=20,
        what="the survey sent or skipped",
    )
    return CsatSurvey.objects.get(pk=survey.pk)


def test_a_survey_outside_the_window_goes_as_the_template_and_one_without_is_skipped(
    celery_worker, live_server_url, whatsapp_channel, graph_api, operator, supervisor
):
    olga = customer_wrote(
        live_server_url, whatsapp_channel, wa_id="48500100200", days_ago=3, message_id="wamid.o1"
    )
    Customer.objects.filter(pk=olga.customer_id).update(language="ru")

    survey = settled(helped_and_resolved(olga, operator))

    assert survey.status == SurveyStatus.SENT, survey.skip_reason
    [sent] = [m for m in graph_api.sent_messages if m["type"] == "template"]
    assert sent["to"] == "48500100200"
    assert sent["template"]["name"] == "rate_us_buttons"
    assert sent["template"]["language"] == {"code": "ru"}
    payloads = [button["parameters"][0]["payload"] for button in sent["template"]["components"]]
    assert len(payloads) == 5

    # Olga taps the first button (5, the best) in WhatsApp.
    tap = fixture_json("button")
    value = tap["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": "Olga"}, "wa_id": "48500100200"}]
    message = first_message(tap)
    message.pop("from_user_id", None)
    message.update(
        {
            "from": "48500100200",
            "id": "wamid.o-tap",
            "timestamp": str(int(timezone.now().timestamp())),
            "button": {"payload": payloads[0], "text": "Отлично"},
        }
    )
    post_to_live_webhook(live_server_url, whatsapp_channel, tap)
    wait_until(
        lambda: CsatSurvey.objects.get(pk=survey.pk).status == SurveyStatus.ANSWERED,
        timeout=15,
        what="the answer by button",
    )
    assert CsatSurvey.objects.get(pk=survey.pk).rating == 5

    # The template is taken off the channel: the next customer outside the window is not
    # surveyed, and that is said.
    channel_update(channel=whatsapp_channel, config={"survey_template": None})
    piotr = customer_wrote(
        live_server_url, whatsapp_channel, wa_id="48500300400", days_ago=2, message_id="wamid.p1"
    )
    requests_before = len(graph_api.requests)

    skipped = settled(helped_and_resolved(piotr, operator))

    assert (skipped.status, skipped.reason_code) == (SurveyStatus.SKIPPED, "no_template")
    assert len(graph_api.requests) == requests_before

    report = httpx.get(
        f"{live_server_url}/api/v1/reports/csat/?group_by=channel",
        headers={"Authorization": f"Token {people.operator_api_token(user=supervisor)}"},
    ).json()
    [row] = report["results"]
    assert (row["surveys_sent"], row["responses"], row["average_rating"]) == (1, 1, 5.0)
    assert report["not_sent"]["reasons"] == [
        {"status": "skipped", "reason": "no_template", "name": "no approved template", "count": 1}
    ]
    assert report["not_sent"]["summary"] == "1 survey sent; 1 skipped: no approved template 1"
