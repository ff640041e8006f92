"""A low score is followed up: CSAT 1-2, CES 1-3 or NPS 0-6 opens one follow-up per survey
(however often the answer or its task runs), assigned as the settings say, seen live, and
its outcome kept with the survey."""

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from inbox import services, survey_answers, tasks
from inbox.follow_ups.models import SurveyFollowUp
from inbox.follow_ups.queue import FOLLOW_UP_OPEN_TASK
from inbox.follow_ups.settings import follow_up_settings_update
from inbox.models import (
    Conversation,
    ConversationStatus,
    CsatSurvey,
    Message,
    PendingTask,
    Role,
    SurveyStatus,
)
from tests.conftest import client_for
from tests.factories import ConversationFactory, TeamFactory, UserFactory
from tests.inbox.test_inbox_consumer import connect, next_event_of_type

pytestmark = pytest.mark.django_db


def sent_survey(channel, team, operator, *, kind: str = "csat") -> CsatSurvey:
    """A conversation of `team`, resolved by `operator`, whose survey of `kind` was sent."""
    conversation = ConversationFactory(channel=channel, team=team, assignee=operator)
    services.conversation_resolve(conversation=conversation, resolved_by=operator)
    survey = CsatSurvey.objects.get(conversation=conversation)
    CsatSurvey.objects.filter(pk=survey.pk).update(
        kind=kind, status=SurveyStatus.SENT, sent_at=timezone.now()
    )
    survey.refresh_from_db()
    return survey


def answer_by_message(survey: CsatSurvey, text: str) -> None:
    survey_answers.csat_answer_from_message(
        conversation=Conversation.objects.get(pk=survey.conversation_id), text=text
    )


def follow_up_tasks(survey: CsatSurvey) -> int:
    return PendingTask.objects.filter(task=FOLLOW_UP_OPEN_TASK, args=[survey.pk]).count()


@pytest.fixture
def team_supervisor(team):
    return UserFactory(username="vera", role=Role.SUPERVISOR, teams=[team])


@pytest.mark.parametrize(
    ("kind", "rating", "is_followed_up"),
    [
        ("csat", 1, True),
        ("csat", 2, True),
        ("csat", 3, False),
        ("ces", 3, True),
        ("ces", 4, False),
        ("nps", 6, True),
        ("nps", 7, False),
    ],
)
def test_only_a_low_score_of_its_kind_asks_for_a_follow_up(
    channel, team, operator, kind, rating, is_followed_up
):
    survey = sent_survey(channel, team, operator, kind=kind)

    answer_by_message(survey, str(rating))
    tasks.survey_follow_up_open(survey.pk)

    assert follow_up_tasks(survey) == int(is_followed_up)
    assert SurveyFollowUp.objects.filter(survey=survey).exists() is is_followed_up


def test_one_follow_up_when_the_answer_and_its_task_run_twice(
    channel, team, operator, team_supervisor
):
    survey = sent_survey(channel, team, operator)

    answer_by_message(survey, "1")
    answer_by_message(survey, "1")
    tasks.survey_follow_up_open(survey.pk)
    tasks.survey_follow_up_open(survey.pk)

    assert follow_up_tasks(survey) == 1
    follow_up = SurveyFollowUp.objects.get(survey=survey)
    assert follow_up.status == "open"
    notes = Message.objects.filter(conversation=survey.conversation_id, is_private=True)
    assert notes.count() == 1
    assert "CSAT 1" in notes.get().body


def test_by_default_the_conversation_is_reopened_for_the_teams_supervisor(
    channel, team, operator, team_supervisor
):
    UserFactory(username="outsider", role=Role.SUPERVISOR)  # of no team: not chosen
    survey = sent_survey(channel, team, operator, kind="nps")

    answer_by_message(survey, "3")
    follow_up = tasks.follow_up_open(survey_id=survey.pk)

    conversation = Conversation.objects.get(pk=survey.conversation_id)
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.assignee == team_supervisor
    assert (follow_up.action, follow_up.conversation, follow_up.assignee) == (
        "reopen",
        conversation,
        team_supervisor,
    )


def test_configured_a_new_conversation_goes_to_the_chosen_team(channel, team, operator):
    complaints = TeamFactory(name="Complaints")
    channel.teams.add(complaints)
    follow_up_settings_update(
        changes={"action": "new_conversation", "assign_to": "team", "team": complaints}
    )
    survey = sent_survey(channel, team, operator, kind="ces")

    answer_by_message(survey, "2")
    follow_up = tasks.follow_up_open(survey_id=survey.pk)

    surveyed = Conversation.objects.get(pk=survey.conversation_id)
    created = follow_up.conversation
    assert surveyed.status == ConversationStatus.RESOLVED
    assert created.pk != surveyed.pk
    assert (created.customer_id, created.channel_id) == (survey.customer_id, channel.pk)
    assert (created.status, created.team, created.assignee) == ("open", complaints, None)
    assert created.messages.get().is_private


def test_follow_ups_switched_off_open_nothing(channel, team, operator):
    follow_up_settings_update(changes={"enabled": False})
    survey = sent_survey(channel, team, operator)

    answer_by_message(survey, "1")
    tasks.follow_up_open(survey_id=survey.pk)

    assert not SurveyFollowUp.objects.exists()
    assert Conversation.objects.get(pk=survey.conversation_id).status == "resolved"


def test_the_outcome_is_kept_with_the_survey_and_shown_by_the_api(
    channel, team, operator, team_supervisor, supervisor
):
    survey = sent_survey(channel, team, operator)
    answer_by_message(survey, "2")
    follow_up = tasks.follow_up_open(survey_id=survey.pk)
    api = client_for(supervisor)

    services.conversation_resolve(conversation=follow_up.conversation, resolved_by=team_supervisor)
    noted = api.patch(
        f"/api/v1/surveys/{survey.pk}/follow-up/",
        {"note": "Called back, refunded"},
        format="json",
    )
    listed = api.get(f"/api/v1/surveys/?conversation={survey.conversation_id}").json()

    assert noted.status_code == 200
    shown = listed["results"][0]["follow_up"]
    assert shown["status"] == "resolved"
    assert shown["resolved_by"] == team_supervisor.pk
    assert shown["resolved_at"] is not None
    assert shown["note"] == "Called back, refunded"
    assert shown["conversation"] == survey.conversation_id


def test_a_survey_without_a_follow_up_shows_null_and_the_list_stays_one_query(
    channel, team, operator, supervisor, django_assert_max_num_queries
):
    for rating in ("1", "5", "2"):
        survey = sent_survey(channel, team, operator)
        answer_by_message(survey, rating)
        tasks.follow_up_open(survey_id=survey.pk)
    api = client_for(supervisor)
    api.get("/api/v1/surveys/")  # warms the session and the permission lookups

    with django_assert_max_num_queries(4):
        rows = api.get("/api/v1/surveys/").json()["results"]

    assert sorted(row["follow_up"] is None for row in rows) == [False, False, True]


@pytest.mark.parametrize(
    "body",
    [{"enabled": "maybe"}, {"action": "shout"}, {"assign_to": "team"}, {"colour": "red"}],
)
def test_bad_settings_are_a_json_400(admin_client_api, body):
    response = admin_client_api.patch("/api/v1/settings/follow-ups/", body, format="json")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_admins_read_and_change_the_settings(admin_client_api, supervisor_client, team):
    changed = admin_client_api.patch(
        "/api/v1/settings/follow-ups/",
        {"action": "new_conversation", "assign_to": "team", "team": team.pk},
        format="json",
    )

    assert changed.json() == {
        "enabled": True,
        "action": "new_conversation",
        "assign_to": "team",
        "team": team.pk,
    }
    assert admin_client_api.get("/api/v1/settings/follow-ups/").json() == changed.json()
    assert supervisor_client.get("/api/v1/settings/follow-ups/").status_code == 403


@pytest.mark.real_services
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_follow_up_reaches_supervisors_live(channel, team, operator, team_supervisor):
    survey = await sync_to_async(sent_survey)(channel, team, operator)
    await sync_to_async(answer_by_message)(survey, "1")
    socket = await connect(team_supervisor)

    await sync_to_async(tasks.follow_up_open)(survey_id=survey.pk)

    event = await next_event_of_type(socket, "survey.follow_up")
    assert event["follow_up"]["survey"] == survey.pk
    assert event["follow_up"]["assignee"] == team_supervisor.pk
    assert event["follow_up"]["status"] == "open"
    await socket.disconnect()


def test_the_settings_page_offers_admins_the_follow_up_section(client, admin_user, operator):
    client.force_login(admin_user)
    admin_page = client.get("/settings/").content.decode()
    client.force_login(operator)
    operator_page = client.get("/settings/").content.decode()

    assert 'id="follow-up-form"' in admin_page
    assert "The team&#x27;s supervisor" in admin_page
    assert 'id="follow-up-form"' not in operator_page


def test_the_settings_page_speaks_russian(client, admin_user):
    admin_user.language = "ru"
    admin_user.save()
    client.force_login(admin_user)

    page = client.get("/settings/").content.decode()

    assert "Работа с низкими оценками" in page
    assert "Руководитель команды" in page
