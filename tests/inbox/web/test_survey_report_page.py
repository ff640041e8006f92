"""The supervisor NPS and CES page, through Django's test client: who may see it, the
overall figures and the tables, comments linked to their conversations, the CSV links and
a query count that does not grow with the data."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import CsatSurvey
from tests.factories import ChannelFactory, UserFactory
from tests.inbox.test_csat import seed_report

pytestmark = pytest.mark.django_db

URL = "/reports/surveys/"


@pytest.fixture
def supervisor_browser(client, supervisor):
    client.force_login(supervisor)
    return client


def cells(page: str, kind: str, field: str) -> list[str]:
    tables = re.findall(rf'<table class="report-table" data-kind="{kind}">.*?</table>', page, re.S)
    return [
        value.strip()
        for table in tables
        for value in re.findall(rf'data-field="{field}">([^<]*)<', table)
    ]


def test_an_operator_may_not_see_it(client, operator):
    client.force_login(operator)

    assert client.get(URL).status_code == 403


def test_the_page_shows_the_overall_scores_and_the_tables(supervisor_browser, channel):
    loyal = UserFactory(first_name="Loyal", username="loyal")
    seed_report(channel, [(loyal, [10, 9, 9, 8, 7, 6, 0, None])], kind="nps")
    seed_report(channel, [(loyal, [7, 6, 5, 4, 1])], kind="ces")

    page = supervisor_browser.get(URL).content.decode()

    assert re.search(r'id="nps-score">14<', page)
    assert "Promoters 3" in page and "Passives 2" in page and "Detractors 2" in page
    assert re.search(r'id="ces-average">4.60<', page)
    assert "60 % easy" in page
    # One row per operator and one per channel.
    assert cells(page, "nps", "nps") == ["14", "14"]
    assert cells(page, "ces", "easy_percent") == ["60 %", "60 %"]
    assert "Loyal" in page and channel.name in page
    assert "/api/v1/reports/nps/?format=csv&amp;from=" in page
    assert "/api/v1/reports/ces/?format=csv&amp;from=" in page


def test_comments_of_each_kind_link_to_their_conversations(supervisor_browser, channel):
    seed_report(channel, [(None, [3])], kind="nps")
    CsatSurvey.objects.update(comment="Too many broken parcels")

    page = supervisor_browser.get(URL).content.decode()

    survey = CsatSurvey.objects.get()
    nps_comments = page.split('id="nps-comments"')[1].split("</ul>")[0]
    assert "Too many broken parcels" in nps_comments
    assert f"?conversation={survey.conversation_id}" in nps_comments
    assert "3 out of 10" in nps_comments


def test_an_empty_period_says_so(supervisor_browser):
    page = supervisor_browser.get(f"{URL}?period=7").content.decode()

    assert page.count("No answers in this period.") == 2


def test_the_page_is_in_the_readers_language(client, supervisor, channel):
    supervisor.language = "ru"
    supervisor.save()
    client.force_login(supervisor)
    seed_report(channel, [(None, [10])], kind="nps")

    page = client.get(URL).content.decode()

    assert "Промоутеры 1" in page


def test_the_query_count_does_not_grow_with_operators_or_surveys(supervisor_browser, channel):
    seed_report(channel, [(UserFactory(), [9, 3])], kind="nps")
    seed_report(channel, [(UserFactory(), [7])], kind="ces")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert supervisor_browser.get(URL).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(5):
        other = ChannelFactory()
        seed_report(other, [(UserFactory(), [10, 1, 6])], kind="nps")
        seed_report(other, [(UserFactory(), [2, 7])], kind="ces")
    assert queries() == few
