"""The supervisor response-time page, through Django's test client: who may see it, its
figures (totals, operators with their trend, SLA attainment), the day bars and the heat
map in the reader's time zone, the CSV link, its languages, and a flat query count."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import SlaPolicy
from tests.factories import ChannelFactory, TeamFactory, UserFactory
from tests.inbox.test_response_reports import conversation

pytestmark = pytest.mark.django_db

URL = "/reports/response-times/"


@pytest.fixture
def supervisor_browser(client, supervisor):
    client.force_login(supervisor)
    return client


def field(page: str, row_marker: str, name: str) -> str:
    row = page.split(row_marker, 1)[1].split("</tr>", 1)[0]
    match = re.search(rf'data-field="{name}">(.*?)</td>', row, re.S)
    assert match, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_an_operator_may_not_see_it(client, operator):
    client.force_login(operator)

    assert client.get(URL).status_code == 403


def test_the_other_report_pages_link_to_it(supervisor_browser):
    page = supervisor_browser.get("/reports/csat/").content.decode()

    assert 'href="/reports/response-times/?' in page


def test_the_page_shows_totals_operators_with_their_trend_and_attainment(supervisor_browser):
    anna = UserFactory(first_name="Anna", last_name="")
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=5)
    now = timezone.now()
    for minutes, breached in ((2, False), (4, False), (10, True)):
        conversation(
            assignee=anna,
            created_at=now - timedelta(days=1),
            first_minutes=minutes,
            resolved_minutes=minutes * 3,
            sla_policy=policy,
            first_response_breached=breached,
        )
    # The period before: answered in 8 minutes, so 4 now is 50 % faster.
    conversation(assignee=anna, created_at=now - timedelta(days=40), first_minutes=8)

    page = supervisor_browser.get(URL).content.decode()

    assert re.search(r'id="total-conversations">3<', page)
    assert re.search(r'id="first-response-median">4 min<', page)
    assert re.search(r'id="sla-met">66.7 %<', page)
    assert "of 3 conversations resolved under an SLA" in page
    marker = f'data-operator-id="{anna.pk}"'
    assert field(page, marker, "conversations") == "3"
    assert field(page, marker, "first_response_median") == "4 min ▼ -50 %"
    assert field(page, marker, "first_response_p90") == "10 min"
    assert field(page, marker, "resolution_median") == "12 min"
    assert field(page, marker, "sla_met_percent") == "66.7 %"
    teams = page.split('data-grouping="team"')[1].split("</table>")[0]
    assert ">66.7 %<" in teams
    assert "/api/v1/reports/conversations/?format=csv&amp;from=" in page


def test_days_and_the_heat_map_are_in_the_readers_time_zone(client, supervisor):
    supervisor.time_zone = "Asia/Tokyo"  # UTC+9, no daylight saving
    supervisor.save()
    client.force_login(supervisor)
    # Sunday 20:30 UTC is Monday 05:30 in Tokyo.
    sunday_evening = datetime(2026, 11, 29, 20, 30, tzinfo=UTC)
    for _ in range(3):
        conversation(created_at=sunday_evening)
    conversation(created_at=sunday_evening + timedelta(hours=2))

    page = client.get(URL, {"from": "2026-11-23", "to": "2026-12-06"}).content.decode()

    monday = page.split('id="heat-map"')[1].split("<tr>")[2]
    assert monday.startswith('<th scope="row">Mon</th>')
    assert 'class="heat-4" data-count="3"' in monday.split("</td>")[5]
    assert 'class="heat-1" data-count="1"' in monday.split("</td>")[7]
    assert "in Asia/Tokyo" in page
    days = page.split('id="volume-table"')[1].split("</table>")[0]
    assert "<td>Nov. 30, 2026</td><td>4</td>" in days
    assert "<td>Nov. 29, 2026</td><td>0</td>" in days


def test_an_empty_period_says_so(supervisor_browser):
    page = supervisor_browser.get(URL).content.decode()

    assert page.count("No conversations were opened in this period.") == 2
    assert page.count("No conversation under an SLA was resolved in this period.") == 2


def test_the_page_is_in_the_readers_language(client, supervisor):
    supervisor.language = "pl"
    supervisor.save()
    client.force_login(supervisor)
    for _ in range(2):
        conversation(first_minutes=3)

    page = client.get(URL).content.decode()

    assert "Czasy odpowiedzi" in page
    assert "3 min" in page


def test_the_query_count_does_not_grow_with_the_data(supervisor_browser):
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=5)

    def add_group() -> None:
        conversation(
            assignee=UserFactory(),
            team=TeamFactory(),
            channel=ChannelFactory(),
            first_minutes=3,
            resolved_minutes=9,
            sla_policy=policy,
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert supervisor_browser.get(URL).status_code == 200
        return len(captured)

    add_group()
    few = queries()
    for _ in range(8):
        add_group()
    many = queries()

    assert few == many
    # session, user, teams, channels; the report's 5, the previous period, the hours; the
    # two times' reads in transactions of their own (three statements more each)
    assert many <= 11 + 6


@pytest.mark.parametrize(
    ("tz", "shown"),
    [("Asia/Tokyo", "Asia/Tokyo"), ("Mars/Olympus", "UTC"), ("../../etc/passwd", "UTC")],
)
def test_without_a_chosen_zone_the_browsers_is_used_when_it_is_one(supervisor_browser, tz, shown):
    response = supervisor_browser.get(URL, {"tz": tz})

    assert response.status_code == 200
    assert f"Conversations opened at each hour, in {shown}." in response.content.decode()
    assert f'id="reader-time-zone" value="{shown}"' in response.content.decode()


def test_a_chosen_zone_wins_over_the_browsers(client, supervisor):
    supervisor.time_zone = "Europe/Warsaw"
    supervisor.save()
    client.force_login(supervisor)

    page = client.get(URL, {"tz": "Asia/Tokyo"}).content.decode()

    assert "in Europe/Warsaw." in page
    assert 'id="reader-time-zone"' not in page
