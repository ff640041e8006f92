"""`GET /api/v1/surveys/`: surveys of every kind with their answers, filtered, only those of
conversations the reader may see, in a flat number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.api.survey_list_views import SurveyOutputSerializer
from inbox.models import CsatSurvey
from tests.conftest import client_for
from tests.factories import ChannelFactory, UserFactory
from tests.inbox.test_api_shapes import assert_fits, documented_shape
from tests.inbox.test_csat import seed_report

pytestmark = pytest.mark.django_db


def test_a_supervisor_reads_every_survey_with_the_documented_fields(channel, supervisor, operator):
    seed_report(channel, [(operator, [9])], kind="nps")
    seed_report(channel, [(operator, [None])], kind="ces")

    body = client_for(supervisor).get("/api/v1/surveys/").json()

    nps, ces = sorted(body["results"], key=lambda row: row["kind"], reverse=True)
    survey = CsatSurvey.objects.get(kind="nps")
    assert nps == {
        "id": survey.pk,
        "kind": "nps",
        "status": "answered",
        "rating": 9,
        "comment": "",
        "conversation": survey.conversation_id,
        "customer": survey.customer_id,
        "operator": operator.pk,
        "channel": channel.pk,
        "sent_at": nps["sent_at"],
        "answered_at": nps["answered_at"],
        "follow_up": None,
    }
    assert (ces["kind"], ces["status"], ces["rating"]) == ("ces", "sent", None)
    assert_fits(documented_shape(SurveyOutputSerializer()), nps)


@pytest.mark.parametrize(
    ("query", "kinds"),
    [("kind=nps", ["nps"]), ("status=sent", ["ces"]), ("kind=csat", [])],
)
def test_filters(channel, supervisor, operator, query, kinds):
    seed_report(channel, [(operator, [9])], kind="nps")
    seed_report(channel, [(operator, [None])], kind="ces")

    body = client_for(supervisor).get(f"/api/v1/surveys/?{query}").json()

    assert [row["kind"] for row in body["results"]] == kinds


def test_customer_and_conversation_filters(channel, supervisor, operator):
    seed_report(channel, [(operator, [9, 10])], kind="nps")
    first = CsatSurvey.objects.order_by("id").first()
    api = client_for(supervisor)

    by_customer = api.get(f"/api/v1/surveys/?customer={first.customer_id}").json()["results"]
    by_talk = api.get(f"/api/v1/surveys/?conversation={first.conversation_id}").json()["results"]

    assert [row["id"] for row in by_customer] == [row["id"] for row in by_talk] == [first.pk]


def test_an_operator_reads_only_the_surveys_of_channels_their_teams_serve(channel, operator):
    seed_report(channel, [(operator, [5])])
    seed_report(ChannelFactory(), [(operator, [1])])

    body = client_for(operator).get("/api/v1/surveys/").json()

    assert [row["rating"] for row in body["results"]] == [5]


@pytest.mark.parametrize("query", ["kind=stars", "status=lost", "customer=abc"])
def test_bad_filters_are_a_json_400(supervisor_client, query):
    response = supervisor_client.get(f"/api/v1/surveys/?{query}")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {query.split("=")[0]}


def test_the_list_reads_in_a_flat_number_of_queries(channel, supervisor):
    api = client_for(supervisor)
    seed_report(channel, [(UserFactory(), [5, 3])], kind="ces")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/surveys/").status_code == 200
        return len(captured)

    few = queries()
    seed_report(channel, [(UserFactory(), [4, 1, 5]) for _ in range(6)], kind="nps")
    assert queries() == few
