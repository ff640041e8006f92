"""Bulk actions in the inbox in a real browser against the live server: ticking several
conversations (shift-click for a range), "select all in this view", and the bar's actions
changing each through the API; and the bar in the operator's language."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import Conversation, ConversationStatus
from tests.factories import ConversationFactory, CustomerFactory, LabelFactory
from tests.live.test_inbox_browser import item, operator_with_password, signed_in

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def conversations_newest_first(channel, names: list[str]) -> list[int]:
    now = timezone.now()
    return [
        ConversationFactory(
            channel=channel,
            customer=CustomerFactory(name=name),
            last_message_at=now - timedelta(minutes=position),
        ).pk
        for position, name in enumerate(names)
    ]


def checkbox(page, conversation_id: int):
    return item(page, conversation_id).locator("input.conversation-select")


def test_selected_conversations_are_labelled_and_resolved_from_the_bar(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    LabelFactory(name="Refund")
    ids = conversations_newest_first(live_channel, ["Maria", "Jonas", "Olga", "Piotr"])
    page = signed_in(open_pages(), live_server_url, anna)
    bar = page.locator("#bulk-bar")
    expect(bar).to_be_hidden()

    # Every conversation in the view gets the label.
    checkbox(page, ids[0]).check()
    expect(page.locator("#bulk-count")).to_have_text("1 selected")
    page.click("#bulk-select-view")
    expect(page.locator("#bulk-count")).to_have_text("Every conversation in this view")
    page.select_option("#bulk-label", label="Refund")
    expect(page.locator(".toast").last).to_have_text("4 conversations changed.")
    for conversation_id in ids:
        item(page, conversation_id).locator(".label-chip", has_text="Refund").wait_for()
    expect(bar).to_be_hidden()

    # The first three, by a click and a shift-click, are resolved.
    checkbox(page, ids[0]).click()
    checkbox(page, ids[2]).click(modifiers=["Shift"])
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    expect(checkbox(page, ids[1])).to_be_checked()
    expect(checkbox(page, ids[3])).not_to_be_checked()
    bar.get_by_role("button", name="Resolve").click()

    expect(page.locator(".toast").last).to_have_text("3 conversations changed.")
    for conversation_id in ids[:3]:
        expect(item(page, conversation_id)).to_have_count(0)  # left the open view
    expect(item(page, ids[3])).to_have_count(1)
    statuses = dict(Conversation.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["resolved", "resolved", "resolved", "open"]
    assert Conversation.objects.get(pk=ids[3]).labels.get().name == "Refund"
    assert page.errors == []


def test_the_bar_speaks_the_operators_language(live_server_url, open_pages, team, live_channel):
    olga = operator_with_password("olga", "Olga", team)
    olga.language = "ru"
    olga.save(update_fields=["language"])
    ids = conversations_newest_first(live_channel, ["Maria", "Jonas", "Piotr", "Anna", "Ivan"])
    page = signed_in(open_pages(), live_server_url, olga)

    for conversation_id in ids:
        checkbox(page, conversation_id).check()

    # Russian's plural for five, not for one or for two to four.
    expect(page.locator("#bulk-count")).to_have_text("Выбрано 5 диалогов")
    expect(page.locator("#bulk-select-view")).to_have_text("Выбрать все в этом представлении")
    page.select_option("#bulk-snooze", value="hour")
    expect(page.locator(".toast").last).to_have_text("Изменено 5 диалогов.")
    assert set(Conversation.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        ConversationStatus.SNOOZED
    }
