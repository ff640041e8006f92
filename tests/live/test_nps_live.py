"""NPS and CES with real processes: a Celery worker on Redis sends each resolved contact's
one survey (NPS once per interval per customer, across channels; CES on a CES channel),
the customers answer on the live survey page, and the reports count them."""

import time

import httpx
import pytest
from django.utils import timezone

from config.celery import app as celery_app
from inbox import people
from inbox.csat import SWEEP_TASK
from inbox.models import CsatSurvey, SurveyStatus
from inbox.nps_settings import nps_settings_update
from inbox.services import conversation_resolve, message_reply
from tests.factories import ChannelFactory, ConversationFactory, CustomerFactory
from tests.live.conftest import wait_until
from tests.live.test_csat_live import surveys_received

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def resolved(channel, operator, customer, address: str):
    conversation = ConversationFactory(
        channel=channel, customer=customer, assignee=operator, recipient_address=address
    )
    message_reply(conversation=conversation, author=operator, body="All sorted!")
    conversation_resolve(conversation=conversation, resolved_by=operator)
    return conversation


def test_nps_once_per_customer_across_channels_and_ces_answered_on_the_live_page(
    celery_worker, live_server_url, team, operator, supervisor, callback_server
):
    nps_settings_update(changes={"enabled": True, "interval_days": 90})
    # Surveys due an hour later at first ask for no sweep of their own; the test makes
    # them due together.
    survey_settings = {"delay_seconds": 3600, "fatigue_days": 0}
    shop = ChannelFactory(
        teams=[team], config={"callback_url": callback_server.url}, csat=survey_settings
    )
    app = ChannelFactory(
        teams=[team],
        config={"callback_url": callback_server.url},
        csat={**survey_settings, "kind": "ces"},
    )
    maria, jonas = CustomerFactory(), CustomerFactory()
    maria_in_shop = resolved(shop, operator, maria, "maria-shop")
    maria_in_app = resolved(app, operator, maria, "maria-app")
    jonas_in_app = resolved(app, operator, jonas, "jonas-app")
    CsatSurvey.objects.update(due_at=timezone.now())

    celery_app.send_task(SWEEP_TASK)
    wait_until(lambda: len(surveys_received(callback_server)) == 3, timeout=20, what="3 surveys")
    time.sleep(0.5)

    received = {event["recipient"]["id"]: event for event in surveys_received(callback_server)}
    assert len(surveys_received(callback_server)) == 3
    assert {address: event["kind"] for address, event in received.items()} == {
        "maria-shop": "nps",
        "maria-app": "ces",
        "jonas-app": "nps",
    }
    assert [r["value"] for r in received["maria-shop"]["ratings"]] == list(range(11))
    assert CsatSurvey.objects.filter(status=SurveyStatus.SENT).count() == 3

    refused = httpx.post(received["maria-shop"]["survey_url"], data={"rating": "11"})
    assert refused.status_code == 400
    assert "from 0 to 10" in refused.text
    for address, rating in (("maria-shop", "9"), ("jonas-app", "3"), ("maria-app", "6")):
        answered = httpx.post(received[address]["survey_url"], data={"rating": rating})
        assert answered.status_code == 200

    token = people.operator_api_token(user=supervisor)
    headers = {"Authorization": f"Token {token}"}
    nps_report = httpx.get(f"{live_server_url}/api/v1/reports/nps/", headers=headers).json()
    ces_report = httpx.get(f"{live_server_url}/api/v1/reports/ces/", headers=headers).json()
    assert (nps_report["overall"]["promoters"], nps_report["overall"]["detractors"]) == (1, 1)
    assert nps_report["overall"]["nps"] == 0.0
    assert (ces_report["overall"]["responses"], ces_report["overall"]["average"]) == (1, 6.0)
    assert {
        conversation: CsatSurvey.objects.get(conversation=conversation).rating
        for conversation in (maria_in_shop, maria_in_app, jonas_in_app)
    } == {maria_in_shop: 9, maria_in_app: 6, jonas_in_app: 3}
