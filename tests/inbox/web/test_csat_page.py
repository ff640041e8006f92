"""The supervisor CSAT page, through Django's test client: who may see it, its figures,
filters, chart and lists, and a query count that does not grow with the data."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import CsatSurvey, Role, SurveyStatus
from tests.factories import ChannelFactory, ConversationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/reports/csat/"


@pytest.fixture
def supervisor_browser(client, supervisor):
    client.force_login(supervisor)
    return client


def seed_surveys(channel, operator, ratings, *, team=None, days_ago=1, comment=""):
    now = timezone.now()
    surveys = []
    for rating in ratings:
        conversation = ConversationFactory(channel=channel)
        surveys.append(
            CsatSurvey.objects.create(
                conversation=conversation,
                customer=conversation.customer,
                channel=channel,
                operator=operator,
                team=team,
                token=f"t-{conversation.pk}",
                due_at=now,
                status=SurveyStatus.ANSWERED if rating else SurveyStatus.SENT,
                sent_at=now - timedelta(days=days_ago),
                rating=rating,
                comment=comment if rating else "",
                answered_at=now - timedelta(days=days_ago, hours=-2) if rating else None,
            )
        )
    return surveys


def operator_rows(response) -> list[dict[str, str]]:
    """The operator table as {field: text}, in the page's order."""
    content = response.content.decode()
    rows = []
    for row in re.findall(r'<tr class="operator-row[^"]*".*?</tr>', content, re.S):
        cells = dict(re.findall(r'data-field="(\w+)">([^<]*)<', row))
        name = re.search(r'class="operator-name">([^<]*)<', row).group(1)
        rows.append(
            {
                "name": unescape(name),
                "is_tentative": "is-tentative" in row.split(">", 1)[0],
                **{key: value.strip() for key, value in cells.items()},
            }
        )
    return rows


@pytest.mark.parametrize("url", [URL, f"{URL}?period=7"])
def test_the_page_requires_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_an_operator_may_not_see_reports_nor_the_link(client, operator):
    client.force_login(operator)

    assert client.get(URL).status_code == 403
    assert b'href="/reports/csat/"' not in client.get("/").content


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_admins_get_the_page_and_the_header_link(client, role):
    client.force_login(UserFactory(role=role))

    assert client.get(URL).status_code == 200
    assert b'href="/reports/csat/"' in client.get("/").content


def test_the_table_shows_the_figures_and_ranks_too_few_responses_last(supervisor_browser, channel):
    steady = UserFactory(username="steady", first_name="Steady")
    lucky = UserFactory(username="lucky", first_name="Lucky")
    seed_surveys(channel, steady, [5, 5, 4, 2, None])
    seed_surveys(channel, lucky, [5])
    solid = UserFactory(username="solid", first_name="Solid")
    seed_surveys(channel, solid, [5, 5, 5, 4, 4, 3])

    response = supervisor_browser.get(URL)

    assert response.status_code == 200
    rows = operator_rows(response)
    assert [row["name"] for row in rows] == ["Solid", "Steady", "Lucky"]
    solid_row, steady_row, lucky_row = rows
    assert solid_row["csat_percent"] == "83.3 %"
    assert not solid_row["is_tentative"]
    assert steady_row["surveys_sent"] == "5"
    assert steady_row["responses"] == "4"
    assert steady_row["response_rate"] == "80 %"
    assert steady_row["csat_percent"] == "75.0 %"
    assert steady_row["average_rating"] == "4.00"
    # 4 and 1 responses are below MIN_RESPONSES_TO_JUDGE (5): marked, whatever their CSAT.
    assert steady_row["is_tentative"]
    assert lucky_row["csat_percent"] == "100.0 %"
    assert lucky_row["is_tentative"]
    assert response.content.count(b"Too few responses to judge") == 2
    # The distribution bar: 2 of 4 rated 5, 1 rated 4, 1 rated 2, with a text alternative.
    assert b'class="segment rating-5" style="width: 50%"' in response.content
    assert b'class="segment rating-2" style="width: 25%"' in response.content
    assert b'aria-label="Ratings: 1 star: 0, 2 stars: 1, 3 stars: 0, 4 stars: 1, 5 stars: 2"' in (
        response.content
    )


def test_operators_with_too_few_responses_rank_below_the_judged_ones(supervisor_browser, channel):
    # Three perfect answers have a higher Wilson bound (0.44) than 3 of 6 satisfied (0.19),
    # but three answers are too few to judge.
    seed_surveys(channel, UserFactory(first_name="Newcomer"), [5, 5, 5])
    seed_surveys(channel, UserFactory(first_name="Veteran"), [5, 4, 4, 3, 2, 1])

    rows = operator_rows(supervisor_browser.get(URL))

    assert [(row["name"], row["is_tentative"]) for row in rows] == [
        ("Veteran", False),
        ("Newcomer", True),
    ]


def test_team_and_channel_filters_change_the_rows_and_the_csv_link(supervisor_browser, channel):
    billing = TeamFactory(name="Billing")
    email = ChannelFactory(name="Email")
    seed_surveys(channel, UserFactory(first_name="Tessa"), [5, 4], team=billing)
    seed_surveys(email, UserFactory(first_name="Elio"), [3], comment="Slow answer")

    everyone = operator_rows(supervisor_browser.get(URL))
    by_team = supervisor_browser.get(f"{URL}?team={billing.pk}")
    by_channel = supervisor_browser.get(f"{URL}?channel={email.pk}")

    assert sorted(row["name"] for row in everyone) == ["Elio", "Tessa"]
    assert [row["name"] for row in operator_rows(by_team)] == ["Tessa"]
    assert [row["name"] for row in operator_rows(by_channel)] == ["Elio"]
    assert b"Slow answer" in by_channel.content
    assert b"Slow answer" not in by_team.content
    csv_link = unescape(re.search(r'href="([^"]*format=csv[^"]*)"', by_team.content.decode())[1])
    assert csv_link.startswith("/api/v1/reports/csat/?format=csv&from=")
    assert f"team={billing.pk}" in csv_link
    download = supervisor_browser.get(csv_link)
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert [line.split(",")[1] for line in download.content.decode().splitlines()[1:]] == ["Tessa"]


def test_the_period_filter_excludes_older_surveys(supervisor_browser, channel):
    seed_surveys(channel, UserFactory(first_name="Recent"), [5], days_ago=2)
    seed_surveys(channel, UserFactory(first_name="Older"), [5], days_ago=20)

    last_week = operator_rows(supervisor_browser.get(f"{URL}?period=7"))
    last_month = operator_rows(supervisor_browser.get(f"{URL}?period=30"))
    today = timezone.localdate()
    by_dates = supervisor_browser.get(
        f"{URL}?period=custom&from={today - timedelta(days=25)}&to={today - timedelta(days=10)}"
    )

    assert [row["name"] for row in last_week] == ["Recent"]
    assert sorted(row["name"] for row in last_month) == ["Older", "Recent"]
    assert [row["name"] for row in operator_rows(by_dates)] == ["Older"]
    assert f"from={today - timedelta(days=25)}".encode() in by_dates.content


def test_a_period_not_understood_falls_back_to_thirty_days(supervisor_browser, channel):
    response = supervisor_browser.get(f"{URL}?period=banana&team=x&channel=999999")

    assert response.status_code == 200
    assert b"That period was not understood" in response.content
    assert b'<option value="30" selected>' in response.content


def test_the_weekly_trend_has_one_point_per_week_with_responses(supervisor_browser, channel):
    anna = UserFactory(first_name="Anna")
    for days_ago in (1, 8, 15):
        seed_surveys(channel, anna, [5, 2], days_ago=days_ago)
    seed_surveys(channel, anna, [None], days_ago=22)  # sent, never answered: no point

    response = supervisor_browser.get(URL)

    assert response.content.count(b'class="trend-point"') == 3
    assert b'class="trend-line"' in response.content
    assert b"50% CSAT, 2 responses" in response.content


def test_comments_and_poor_ratings_link_to_their_conversations(supervisor_browser, channel):
    anna = UserFactory(first_name="Anna")
    (praised,) = seed_surveys(channel, anna, [5], comment="Quick & kind")
    (poor,) = seed_surveys(channel, anna, [1], comment="<b>Never again</b>")

    response = supervisor_browser.get(URL)
    content = response.content.decode()

    assert f'href="/?conversation={praised.conversation_id}"' in content
    assert f'href="/?conversation={poor.conversation_id}"' in content
    assert "Quick &amp; kind" in content
    assert "&lt;b&gt;Never again&lt;/b&gt;" in content
    assert "<b>Never again</b>" not in content
    attention = content.split('id="needs-attention"', 1)[1].split("</ul>", 1)[0]
    assert f"conversation={poor.conversation_id}" in attention
    assert f"conversation={praised.conversation_id}" not in attention


def test_the_page_carries_what_its_live_script_needs(supervisor_browser, channel):
    anna = UserFactory(first_name="Anna")
    seed_surveys(channel, anna, [4])

    response = supervisor_browser.get(f"{URL}?channel={channel.pk}")

    assert b'<script id="csat-report-data" type="application/json">' in response.content
    assert f'"channel_id": {channel.pk}'.encode() in response.content
    assert f'"{anna.pk}": "Anna"'.encode() in response.content
    assert b"inbox/js/csat_report.js" in response.content


def test_the_query_count_does_not_grow_with_operators_or_surveys(supervisor_browser, channel):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert supervisor_browser.get(URL).status_code == 200
        return len(captured)

    for index in range(2):
        seed_surveys(channel, UserFactory(), [5, 1, None], comment=f"note {index}")
    few = queries()
    for index in range(13):
        seed_surveys(channel, UserFactory(), [4, 2, 5], comment=f"more {index}")
    many = queries()

    assert few == many
    # session, user, teams, channels, counts, names, trend, two lists, surveys not sent
    assert many <= 10
