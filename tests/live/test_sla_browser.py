"""SLA clocks in a real browser against the live server: countdowns that turn amber and
red on their own, the Breached view kept current live, and the notice of a conversation
due soon (with the browser's notification while the tab is hidden)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation, SlaPolicy
from inbox.sla.breaches import sla_breaches_mark
from inbox.sla.due_soon import sla_due_soon_notify
from tests.factories import ConversationFactory, CustomerFactory, MessageFactory
from tests.live.test_inbox_browser import item, operator_with_password, signed_in

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

DANGER_RED = "rgb(180, 35, 24)"
WARNING_AMBER = "rgb(181, 71, 8)"


def waiting(channel, policy, *, due_in: timedelta, name: str, **fields) -> Conversation:
    due = timezone.now() + due_in
    conversation = ConversationFactory(
        channel=channel,
        customer=CustomerFactory(name=name),
        sla_policy=policy,
        first_response_due_at=due,
        sla_next_due_at=due,
        **fields,
    )
    MessageFactory(conversation=conversation, body="Hello?")
    return conversation


@pytest.fixture
def standard(db):
    return SlaPolicy.objects.create(name="Standard", first_response_minutes=60)


def color_of(locator) -> str:
    return locator.evaluate("node => getComputedStyle(node).color")


def test_a_countdown_turns_red_at_its_breach_without_a_reload(
    live_server_url, open_pages, team, live_channel, standard
):
    anna = operator_with_password("anna", "Anna", team)
    # Time enough for the page to load on a busy machine before the due time.
    soon = waiting(live_channel, standard, due_in=timedelta(seconds=25), name="Maria Garcia")
    later = waiting(live_channel, standard, due_in=timedelta(minutes=45), name="Jonas Weber")
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={soon.pk}")

    listed = item(page, soon.pk).locator(".sla-clock")
    in_header = page.locator("#thread-header .sla-clock")
    # Seconds of a 60-minute target left: amber, ticking.
    assert listed.get_attribute("data-sla-state") == "warning"
    assert re.fullmatch(r"Due in \d+ seconds?", listed.inner_text()), listed.inner_text()
    assert color_of(listed) == WARNING_AMBER
    assert in_header.get_attribute("data-sla-state") == "warning"
    calm = item(page, later.pk).locator(".sla-clock")
    assert calm.get_attribute("data-sla-state") == "running"
    # Whole minutes left: 45 in the page's first second, 44 after.
    assert calm.inner_text() in ("Due in 45 minutes", "Due in 44 minutes")
    assert "First response due" in calm.get_attribute("title")

    breached = ".sla-clock[data-sla-state='breached']"
    item(page, soon.pk).locator(breached).wait_for(timeout=40_000)
    page.locator(f"#thread-header {breached}").wait_for()
    assert listed.inner_text() == "Breached just now"
    assert color_of(listed) == DANGER_RED
    assert color_of(in_header) == DANGER_RED

    # The sweep names the breach and tells the page: the Breached view counts it, and the
    # countdown stays red with the server's due time.
    sla_breaches_mark()
    page.locator("[data-count-view='breached']").filter(has_text="1").wait_for()
    assert listed.get_attribute("data-sla-state") == "breached"
    assert page.errors == []


def test_the_breached_view_lists_the_missed_conversations(
    live_server_url, open_pages, team, live_channel, standard
):
    anna = operator_with_password("anna", "Anna", team)
    missed = waiting(live_channel, standard, due_in=timedelta(minutes=-20), name="Olga Ivanova")
    fine = waiting(live_channel, standard, due_in=timedelta(minutes=50), name="Jonas Weber")
    sla_breaches_mark()
    page = signed_in(open_pages(), live_server_url, anna)

    page.click("[data-view='breached']")
    item(page, missed.pk).wait_for()
    assert item(page, fine.pk).count() == 0
    assert item(page, missed.pk).locator(".sla-clock").inner_text() == "Breached 20 min ago"
    page.click("[data-view='due_soon']")
    item(page, missed.pk).wait_for(state="detached")
    assert item(page, fine.pk).count() == 0  # 50 minutes: not within the half hour


# The page's Notification replaced by one that records, and the tab's visibility set by the
# test: headless Chromium can neither show notifications nor hide a tab.
RECORDING_NOTIFICATIONS = """
window.shownNotifications = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.shownNotifications.push({ title, body: options.body }); }
  addEventListener() {}
  close() {}
};
Object.defineProperty(document, "hidden", { get: () => Boolean(window.isTabHidden) });
"""


def test_a_team_operator_is_told_of_a_conversation_due_soon(
    live_server_url, open_pages, team, live_channel, standard
):
    anna = operator_with_password("anna", "Anna", team)
    coming = waiting(
        live_channel, standard, due_in=timedelta(minutes=6), name="Jonas Weber", team=team
    )
    other = waiting(live_channel, standard, due_in=timedelta(minutes=50), name="Maria Garcia")
    page = open_pages()
    page.add_init_script(RECORDING_NOTIFICATIONS)
    signed_in(page, live_server_url, anna, f"/?conversation={other.pk}")

    page.evaluate("window.isTabHidden = true")
    assert sla_due_soon_notify() == 1

    notice = page.locator(f".sla-notice[data-conversation-id='{coming.pk}']")
    notice.wait_for()
    assert "Jonas Weber is waiting for a first response, due at" in notice.inner_text()
    shown = page.evaluate("window.shownNotifications")
    assert [entry["title"] for entry in shown] == ["A conversation is due soon"]
    assert shown[0]["body"].startswith("Jonas Weber is waiting for a first response")

    notice.locator("[data-notice-open]").click()
    page.locator(f"#thread-header[data-conversation-id='{coming.pk}']").wait_for()
    assert page.locator(".sla-notice").count() == 0
    assert page.errors == []
