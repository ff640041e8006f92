"""Every survey report counts the surveys that did not reach their customers, per reason:
in the API (CSAT, CES, NPS), on the report pages, in the reader's language, with a flat
number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_app.contracts import DeliveryFailed
from inbox import csat_sending
from tests.conftest import client_for
from tests.factories import ChannelFactory, UserFactory
from tests.inbox.test_csat import seed_not_sent, seed_report

pytestmark = pytest.mark.django_db

SKIPPED_AND_FAILED = [
    *[("skipped", "window_closed")] * 9,
    *[("skipped", "unreachable")] * 5,
    ("failed", "platform_error"),
]


@pytest.mark.parametrize("kind", ["csat", "ces", "nps"])
def test_each_report_counts_what_was_not_sent_per_reason(channel, supervisor, kind):
    seed_report(channel, [(UserFactory(), [None] * 3)], kind=kind)
    seed_not_sent(channel, SKIPPED_AND_FAILED, kind=kind)
    # Another kind's, and one due before the period, are not this report's.
    seed_not_sent(channel, [("skipped", "fatigue")], kind="csat" if kind != "csat" else "nps")
    seed_not_sent(channel, [("skipped", "no_template")], kind=kind, due_days_ago=90)

    body = client_for(supervisor).get(f"/api/v1/reports/{kind}/?group_by=channel").json()

    not_sent = body["not_sent"]
    assert (not_sent["skipped"], not_sent["failed"]) == (14, 1)
    assert [(row["status"], row["reason"], row["count"]) for row in not_sent["reasons"]] == [
        ("skipped", "window_closed", 9),
        ("skipped", "unreachable", 5),
        ("failed", "platform_error", 1),
    ]
    assert not_sent["summary"] == (
        "3 surveys sent; 14 skipped: window closed 9, unreachable 5; 1 failed: platform error 1"
    )


def test_the_counts_follow_the_report_filters(supervisor):
    asked, other = ChannelFactory(name="Asked"), ChannelFactory(name="Other")
    seed_not_sent(asked, [("skipped", "no_template")] * 2)
    seed_not_sent(other, [("skipped", "fatigue")])

    body = client_for(supervisor).get(f"/api/v1/reports/csat/?channel={asked.pk}").json()

    assert [(row["reason"], row["count"]) for row in body["not_sent"]["reasons"]] == [
        ("no_template", 2)
    ]


@pytest.mark.parametrize(
    ("language", "summary"),
    [
        ("ru", "1 опрос отправлен; 5 пропущено: окно переписки закрыто 5"),
        ("pl", "1 ankieta wysłana; 5 pominiętych: okno rozmowy zamknięte 5"),
    ],
)
def test_the_summary_reads_in_the_supervisors_language(channel, supervisor, language, summary):
    seed_report(channel, [(UserFactory(), [None])], kind="nps")
    seed_not_sent(channel, [("skipped", "window_closed")] * 5, kind="nps")

    body = (
        client_for(supervisor)
        .get("/api/v1/reports/nps/", headers={"accept-language": language})
        .json()
    )

    assert body["not_sent"]["summary"] == summary
    assert body["not_sent"]["reasons"][0]["reason"] == "window_closed"


def test_a_period_where_every_survey_went_out_says_only_what_was_sent(channel, supervisor):
    seed_report(channel, [(UserFactory(), [5, None])])

    not_sent = client_for(supervisor).get("/api/v1/reports/csat/").json()["not_sent"]

    assert not_sent == {
        "skipped": 0,
        "failed": 0,
        "reasons": [],
        "summary": "2 surveys sent",
    }


@pytest.mark.parametrize("kind", ["csat", "nps"])
def test_the_count_of_queries_stays_flat_with_more_reasons(channel, supervisor, kind):
    api = client_for(supervisor)
    seed_not_sent(channel, [("skipped", "fatigue")], kind=kind)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(f"/api/v1/reports/{kind}/?group_by=operator").status_code == 200
        return len(captured)

    few = queries()
    seed_not_sent(channel, SKIPPED_AND_FAILED * 3, kind=kind)
    seed_not_sent(ChannelFactory(), [("failed", "credentials_rejected")], kind=kind)
    assert queries() == few


def test_the_report_pages_show_the_gap(client, channel, supervisor):
    seed_report(channel, [(UserFactory(), [4])])
    seed_not_sent(channel, [("skipped", "no_template")] * 2)
    seed_not_sent(channel, [("skipped", "window_closed")], kind="nps")
    seed_not_sent(channel, [("failed", "unreachable")], kind="ces")
    client.force_login(supervisor)

    csat_page = client.get("/reports/csat/").content.decode()
    surveys_page = client.get("/reports/surveys/").content.decode()

    assert "1 survey sent; 2 skipped: no approved template 2" in csat_page
    assert "0 surveys sent; 1 skipped: window closed 1" in surveys_page
    assert "0 surveys sent; 1 failed: unreachable 1" in surveys_page


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (DeliveryFailed("blocked", is_retryable=False, is_recipient_unreachable=True),
         "unreachable"),
        (DeliveryFailed("token", is_retryable=False, is_credential_rejected=True),
         "credentials_rejected"),
        (DeliveryFailed("(#100) Invalid parameter", is_retryable=False), "platform_error"),
    ],
)  # fmt: skip
def test_a_failed_survey_keeps_what_kind_of_failure_it_was(failure, code):
    assert csat_sending.failure_reason_code(failure) == code
