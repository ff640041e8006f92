"""A low score followed up with real processes: the customer answers 1 on the live survey
page (twice), a Celery worker on Redis opens one follow-up from the task the answer
recorded, and the team's supervisor hears it on their live socket."""

import time

import httpx
import pytest
from django.utils import timezone
from websockets.sync.client import connect

from config.celery import app as celery_app
from customers.models import Customer
from inbox import people
from inbox.follow_ups.models import SurveyFollowUp
from inbox.follow_ups.queue import FOLLOW_UP_OPEN_TASK
from inbox.models import Conversation, CsatSurvey, Role, SurveyStatus
from inbox.services import conversation_resolve
from tests.factories import ChannelFactory, ConversationFactory, UserFactory
from tests.live.conftest import wait_until
from tests.live.test_live_server import events_until

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def test_a_low_score_opens_one_follow_up_that_reaches_the_supervisor_live(
    celery_worker, live_server_url, team, operator, callback_server
):
    supervisor = UserFactory(username="vera", role=Role.SUPERVISOR, teams=[team])
    channel = ChannelFactory(teams=[team], config={"callback_url": callback_server.url})
    conversation = ConversationFactory(
        channel=channel, team=team, assignee=operator, recipient_address="low-1"
    )
    conversation_resolve(conversation=conversation, resolved_by=operator)
    survey = CsatSurvey.objects.get(conversation=conversation)
    CsatSurvey.objects.filter(pk=survey.pk).update(status=SurveyStatus.SENT, sent_at=timezone.now())
    token = people.operator_api_token(user=supervisor)

    with connect(
        live_server_url.replace("http://", "ws://") + "/ws/inbox/",
        additional_headers={"Authorization": f"Token {token}"},
        open_timeout=5,
    ) as socket_of_supervisor:
        for _ in range(2):
            answered = httpx.post(
                f"{live_server_url}/survey/{survey.token}/",
                data={"rating": "1", "comment": "Nobody read my messages"},
            )
            assert answered.status_code == 200
        event = events_until(socket_of_supervisor, "survey.follow_up", timeout=20)

    assert event["follow_up"]["survey"] == survey.pk
    assert event["follow_up"]["assignee"] == supervisor.pk
    # The task delivered again (as after a worker's crash) opens nothing more.
    celery_app.send_task(FOLLOW_UP_OPEN_TASK, args=[survey.pk])
    time.sleep(2)
    assert SurveyFollowUp.objects.filter(survey=survey).count() == 1
    reopened = Conversation.objects.get(pk=conversation.pk)
    assert (reopened.status, reopened.assignee_id) == ("open", supervisor.pk)
    note = reopened.messages.get(is_private=True)
    assert "CSAT 1" in note.body and "Nobody read my messages" in note.body
    listed = httpx.get(
        f"{live_server_url}/api/v1/surveys/?conversation={conversation.pk}",
        headers={"Authorization": f"Token {token}"},
    ).json()["results"]
    assert listed[0]["follow_up"]["status"] == "open"
    wait_until(
        lambda: Customer.objects.get(pk=reopened.customer_id).health_risk == "medium",
        timeout=10,
        what="the customer's stored risk refreshed",
    )
