"""The NPS and CES reports: their arithmetic on a known data set, groupings, the overall
figures, CSV, flat query counts and the documented shape."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import survey_reports
from inbox.api import survey_report_views
from tests.conftest import client_for
from tests.factories import ChannelFactory, UserFactory
from tests.inbox.test_api_shapes import assert_fits, documented_shape
from tests.inbox.test_csat import seed_not_sent, seed_report

pytestmark = pytest.mark.django_db


def seed(channel, kind, operators_and_answers, *, sent_days_ago: int = 1):
    seed_report(channel, operators_and_answers, kind=kind, sent_days_ago=sent_days_ago)


@pytest.fixture
def loyal_and_lukewarm(channel):
    loyal = UserFactory(username="loyal", first_name="Loyal")
    lukewarm = UserFactory(username="lukewarm", first_name="Lukewarm")
    seed(channel, "nps", [(loyal, [10, 9, 9, 8, 7, 6, 0, None]), (lukewarm, [10, 10, 3])])
    # Neither another kind nor a survey sent before the period counts.
    seed(channel, "csat", [(loyal, [1, 1])])
    seed(channel, "ces", [(loyal, [1])])
    seed(channel, "nps", [(loyal, [0, 0])], sent_days_ago=60)
    seed_not_sent(channel, [("skipped", "window_closed")], kind="nps")
    seed_not_sent(channel, [("failed", "platform_error")], kind="ces")
    return loyal, lukewarm


def test_nps_per_operator_and_overall(loyal_and_lukewarm, supervisor):
    loyal, _ = loyal_and_lukewarm

    response = client_for(supervisor).get("/api/v1/reports/nps/?group_by=operator")

    assert response.status_code == 200
    body = response.json()
    assert body["group_by"] == "operator"
    rows = {row["group"]["name"]: row for row in body["results"]}
    assert set(rows) == {"Loyal", "Lukewarm"}
    assert rows["Loyal"]["group"]["id"] == loyal.pk
    assert {key: rows["Loyal"][key] for key in ("surveys_sent", "responses", "response_rate")} == {
        "surveys_sent": 8,
        "responses": 7,
        "response_rate": 0.875,
    }
    assert (
        rows["Loyal"]["promoters"],
        rows["Loyal"]["passives"],
        rows["Loyal"]["detractors"],
        rows["Loyal"]["nps"],
    ) == (3, 2, 2, 14.29)
    assert rows["Loyal"]["distribution"]["9"] == 2
    assert (rows["Lukewarm"]["promoters"], rows["Lukewarm"]["detractors"]) == (2, 1)
    assert rows["Lukewarm"]["nps"] == 33.33
    assert body["overall"] == {
        "surveys_sent": 11,
        "responses": 10,
        "response_rate": 0.9091,
        "distribution": dict.fromkeys(map(str, range(11)), 0)
        | {"0": 1, "3": 1, "6": 1, "7": 1, "8": 1, "9": 2, "10": 3},
        "promoters": 5,
        "passives": 2,
        "detractors": 3,
        "nps": 20.0,
    }


@pytest.mark.parametrize(
    ("answers", "nps"),
    [
        ({9: 2, 10: 5}, 100.0),
        ({0: 4, 6: 1}, -100.0),
        ({7: 3, 8: 1}, 0.0),
        ({10: 1, 8: 1, 0: 1}, 0.0),
        ({None: 3}, None),
    ],
)
def test_nps_runs_from_minus_100_to_100_and_passives_only_dilute(answers, nps):
    assert survey_reports.nps_figures(answers)["nps"] == nps


def test_ces_per_channel_and_overall(supervisor, operator):
    shop, app = ChannelFactory(name="Shop"), ChannelFactory(name="App")
    seed(shop, "ces", [(operator, [7, 6, 5, 4, 1])])
    seed(app, "ces", [(operator, [2, 3, None])])
    seed(app, "nps", [(operator, [10])])

    body = client_for(supervisor).get("/api/v1/reports/ces/?group_by=channel").json()

    rows = {row["group"]["name"]: row for row in body["results"]}
    assert (rows["Shop"]["responses"], rows["Shop"]["average"], rows["Shop"]["easy_percent"]) == (
        5,
        4.6,
        60.0,
    )
    assert (rows["App"]["surveys_sent"], rows["App"]["average"], rows["App"]["easy_percent"]) == (
        3,
        2.5,
        0.0,
    )
    overall = body["overall"]
    assert (overall["responses"], overall["average"], overall["easy_percent"]) == (7, 4.0, 42.86)
    assert overall["distribution"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 1}


@pytest.mark.parametrize("kind", ["nps", "ces"])
@pytest.mark.parametrize("group_by", ["operator", "team", "channel", "day"])
def test_every_grouping_adds_up_to_the_overall(channel, supervisor, kind, group_by):
    seed(channel, kind, [(UserFactory(), [1, 5, 7, None]), (None, [2])])

    body = client_for(supervisor).get(f"/api/v1/reports/{kind}/?group_by={group_by}").json()

    assert sum(row["responses"] for row in body["results"]) == body["overall"]["responses"] == 4
    assert sum(row["surveys_sent"] for row in body["results"]) == 5


def test_an_empty_period_has_no_rows_and_no_score(supervisor):
    body = client_for(supervisor).get("/api/v1/reports/nps/").json()

    assert body["results"] == []
    assert (body["overall"]["responses"], body["overall"]["nps"]) == (0, None)


@pytest.mark.parametrize("kind", ["nps", "ces"])
def test_report_query_count_is_flat(channel, supervisor, kind):
    api = client_for(supervisor)
    seed(channel, kind, [(UserFactory(), [5, 3])])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(f"/api/v1/reports/{kind}/?group_by=operator").status_code == 200
        return len(captured)

    few = queries()
    seed(channel, kind, [(UserFactory(), [4, 1, 5]) for _ in range(12)])
    assert queries() == few


def test_nps_csv_export_has_a_row_per_group_and_the_overall(loyal_and_lukewarm, supervisor):
    response = client_for(supervisor).get("/api/v1/reports/nps/?group_by=operator&format=csv")

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="nps-by-operator.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["name"] for row in rows] == ["Loyal", "Lukewarm", ""]
    assert rows[-1]["operator"] == "overall"
    assert (rows[-1]["nps"], rows[-1]["promoters"], rows[-1]["answered_10"]) == ("20.0", "5", "3")


def test_ces_csv_export(channel, supervisor, operator):
    seed(channel, "ces", [(operator, [7, 5, 1])])

    response = client_for(supervisor).get("/api/v1/reports/ces/?group_by=channel&format=csv")

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert (rows[0]["average"], rows[0]["easy_percent"], rows[0]["answered_7"]) == (
        "4.33",
        "66.67",
        "1",
    )


def test_the_reports_answer_as_documented(loyal_and_lukewarm, supervisor):
    api = client_for(supervisor)

    assert_fits(
        documented_shape(survey_report_views.NpsReportSerializer()),
        api.get("/api/v1/reports/nps/?group_by=day").json(),
    )
    assert_fits(
        documented_shape(survey_report_views.CesReportSerializer()),
        api.get("/api/v1/reports/ces/?group_by=team").json(),
    )


def test_bad_report_parameters_are_a_json_400(supervisor_client):
    response = supervisor_client.get("/api/v1/reports/nps/?group_by=planet&from=someday")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"group_by", "from"}


def test_the_reports_are_for_supervisors(operator_client):
    assert operator_client.get("/api/v1/reports/nps/").status_code == 403
    assert operator_client.get("/api/v1/reports/ces/").status_code == 403
