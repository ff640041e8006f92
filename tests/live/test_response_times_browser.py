"""In a real browser: the supervisor's response-time page renders the period's figures, its
heat map in the browser's time zone, and downloads the CSV with a row per operator, team
and channel."""

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import SlaPolicy
from tests.factories import ChannelFactory, TeamFactory, UserFactory
from tests.inbox.test_response_reports import conversation

URL = "/reports/response-times/"
pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def signed_in_on_report(page, live_server_url: str, user, path: str):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server_url}]
    )
    page.goto(live_server_url + path)
    return page


def test_the_page_renders_the_figures_and_the_csv_downloads_its_rows(
    live_server_url, open_pages, supervisor
):
    anna = UserFactory(username="anna", first_name="Anna", last_name="")
    boris = UserFactory(username="boris", first_name="Boris", last_name="")
    sales, chat = TeamFactory(name="Sales"), ChannelFactory(name="Chat")
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=5)
    opened = timezone.now() - timedelta(days=2)
    for assignee, minutes, breached in ((anna, 2, False), (anna, 4, False), (boris, 9, True)):
        conversation(
            assignee=assignee,
            team=sales,
            channel=chat,
            created_at=opened,
            first_minutes=minutes,
            resolved_minutes=minutes * 5,
            sla_policy=policy,
            first_response_breached=breached,
        )

    page = signed_in_on_report(
        open_pages(timezone_id="Asia/Tokyo"), live_server_url, supervisor, URL
    )

    # The page asked again with the browser's zone, and counts hours there.
    page.wait_for_url("**tz=Asia%2FTokyo**")
    expect(page.locator("#heat-map")).to_be_visible()
    expect(page.get_by_text("Conversations opened at each hour, in Asia/Tokyo.")).to_be_visible()
    local = timezone.localtime(opened, timezone.get_fixed_timezone(9 * 60))
    cell = page.locator("#heat-map tbody tr").nth(local.weekday()).locator("td").nth(local.hour)
    expect(cell).to_have_attribute("data-count", "3")
    expect(page.locator("#total-conversations")).to_have_text("3")
    expect(page.locator("#sla-met")).to_have_text("66.7 %")
    anna_row = page.locator(f'#operator-times tr[data-operator-id="{anna.pk}"]')
    expect(anna_row.locator('[data-field="first_response_median"]')).to_have_text("3 min")
    expect(page.get_by_role("link", name="Response times")).to_have_attribute(
        "aria-current", "page"
    )

    with page.expect_download() as download_info:
        page.locator("#response-times-csv").click()
    download = download_info.value
    assert download.suggested_filename == "response-times.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [(row["grouping"], row["name"], row["conversations"]) for row in rows] == [
        ("operator", "Anna", "2"),
        ("operator", "Boris", "1"),
        ("team", "Sales", "3"),
        ("channel", "Chat", "3"),
    ]
    assert [row["sla_met_percent"] for row in rows] == ["100.0", "0.0", "66.67", "66.67"]
    assert page.errors == []
