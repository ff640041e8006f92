"""The inbox's workspace tools in a real browser against the live server: system events in
the thread, labels, canned responses, files on replies and who else is viewing (fixtures
and helpers shared with test_inbox_browser)."""

import pytest
from playwright.sync_api import expect

from automation.models import Macro
from inbox.models import Notification, User
from tests.factories import CannedResponseFactory, LabelFactory
from tests.live.test_inbox_browser import (
    conversation_id_of,
    item,
    operator_with_password,
    post_webhook,
    signed_in,
)

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def maria_writes(live_server_url, channel, message_id: str = "w-1") -> int:
    return conversation_id_of(
        post_webhook(
            live_server_url,
            channel,
            message_id=message_id,
            sender_id="u-maria",
            name="Maria Garcia",
            text="My order is late",
        )
    )


def test_resolving_shows_a_system_event_line_in_the_thread(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    conversation_id = maria_writes(live_server_url, live_channel)
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation_id}")

    page.click("#thread-header [data-action='resolve']")

    line = page.locator("#thread-messages .thread-event").last
    line.wait_for()
    assert line.inner_text().startswith("Anna resolved this")
    assert page.errors == []


def test_a_label_added_from_the_header_shows_as_a_chip_in_the_list(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    LabelFactory(name="Refund", color="#dc2626")
    conversation_id = maria_writes(live_server_url, live_channel)
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation_id}")

    page.keyboard.press("l")
    page.locator("#thread-header .label-option", has_text="Refund").click()

    item(page, conversation_id).locator(".label-chip", has_text="Refund").wait_for()
    page.locator("#thread-header [data-field='labels'] .label-chip", has_text="Refund").wait_for()
    page.locator("#thread-messages .thread-event", has_text="added the label Refund").wait_for()
    assert page.errors == []


def test_typing_a_canned_shortcut_and_enter_inserts_it_with_the_customers_name(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    CannedResponseFactory(
        shortcut="thanks", body="Thank you, {{customer.first_name}}! — {{operator.name}}"
    )
    CannedResponseFactory(shortcut="refund", body="Your refund is on its way.")
    conversation_id = maria_writes(live_server_url, live_channel)
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation_id}")

    page.click("#reply-body")
    page.keyboard.type("Hello /than")
    listbox = page.locator("#canned-list[role='listbox']")
    listbox.wait_for()
    options = listbox.locator("[role='option']")
    assert options.count() == 1
    active = page.locator("#reply-body").get_attribute("aria-activedescendant")
    assert active == options.first.get_attribute("id")
    page.keyboard.press("Enter")

    assert page.input_value("#reply-body") == "Hello Thank you, Maria! — Anna"
    assert listbox.is_hidden()
    page.keyboard.type(" /")
    listbox.wait_for()
    page.keyboard.press("Escape")
    assert listbox.is_hidden()
    assert page.errors == []


def test_a_file_attached_to_a_reply_shows_in_the_thread(
    live_server_url, open_pages, team, live_channel, tmp_path
):
    anna = operator_with_password("anna", "Anna", team)
    conversation_id = maria_writes(live_server_url, live_channel)
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation_id}")
    receipt = tmp_path / "receipt.txt"
    receipt.write_text("Order 1234: refunded")

    page.set_input_files("#reply-files", str(receipt))
    page.locator("#reply-file-chips .file-chip", has_text="receipt.txt").wait_for()
    page.fill("#reply-body", "Here is your receipt")
    page.click("#send-button")

    sent = page.locator("#thread-messages .message-out").last
    sent.locator(".attachment-file", has_text="receipt.txt").wait_for()
    # The live event can show the sent message before the reply's own answer clears the box.
    expect(page.locator("#reply-file-chips")).to_be_hidden()
    link = sent.locator(".attachment-file").get_attribute("href")
    assert page.request.get(live_server_url + link).text() == "Order 1234: refunded"
    assert page.errors == []


def test_a_second_operator_sees_who_is_viewing_the_conversation(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    ben = operator_with_password("ben", "Ben", team)
    conversation_id = maria_writes(live_server_url, live_channel)
    path = f"/?conversation={conversation_id}"
    anna_page = signed_in(open_pages(), live_server_url, anna, path)
    ben_page = signed_in(open_pages(), live_server_url, ben, path)

    ben_page.locator("#viewing", has_text="Anna is viewing").wait_for()
    anna_page.locator("#viewing", has_text="Ben is viewing").wait_for()

    anna_page.close()
    # A locator, not a function: the page's Content-Security-Policy forbids evaluating text.
    expect(ben_page.locator("#viewing")).to_have_text("")
    assert ben_page.errors == []


def test_typing_a_macros_name_and_enter_applies_it_to_the_conversation(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    urgent = LabelFactory(name="Urgent", color="#dc2626")
    Macro.objects.create(
        name="Escalate",
        is_shared=True,
        actions=[
            {"type": "add_labels", "labels": [urgent.pk]},
            {"type": "add_note", "body": "Escalated to the second line"},
        ],
    )
    Macro.objects.create(name="Close politely", owner=anna, actions=[{"type": "resolve"}])
    conversation_id = maria_writes(live_server_url, live_channel)
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation_id}")

    page.click("#reply-body")
    page.keyboard.type("Order #12")
    listbox = page.locator("#macro-list[role='listbox']")
    assert listbox.is_hidden()  # no macro is called "12": a hash is just a hash
    page.keyboard.type(" #esc")
    listbox.wait_for()
    assert listbox.locator("[role='option']").all_inner_texts() == ["#Escalate 2 actions"]
    page.keyboard.press("Enter")

    assert page.input_value("#reply-body") == "Order #12 "
    page.locator("#thread-messages .message-note", has_text="Escalated").wait_for()
    page.locator("#thread-header [data-field='labels'] .label-chip", has_text="Urgent").wait_for()
    page.locator(".toast", has_text="Macro “Escalate” applied.").wait_for()
    assert page.errors == []


def test_a_colleague_mentioned_in_a_note_is_notified_live_and_opens_the_conversation(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    operator_with_password("ben", "Ben", team)
    conversation_id = maria_writes(live_server_url, live_channel)
    elsewhere = maria_writes(live_server_url, live_channel, message_id="w-2")
    writer = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation_id}")
    reader = signed_in(
        open_pages(),
        live_server_url,
        User.objects.get(username="ben"),
        f"/?conversation={elsewhere}",
    )
    badge = reader.locator("#notifications-unread")
    assert badge.is_hidden()

    writer.check("input[name='mode'][value='note']", force=True)
    writer.click("#reply-body")
    writer.keyboard.type("Could you check this, @be")
    writer.locator("#mention-list [role='option']", has_text="@ben").wait_for()
    writer.keyboard.press("Enter")
    writer.keyboard.type("?")
    assert writer.input_value("#reply-body") == "Could you check this, @ben ?"
    writer.keyboard.press("Control+Enter")

    expect(badge).to_have_text("1")
    reader.click("#notifications-button")
    entry = reader.locator("#notifications-list .notification.is-unread")
    expect(entry.locator(".notification-title")).to_have_text("Anna mentioned you in a note")
    expect(entry.locator(".notification-excerpt")).to_have_text("Could you check this, @ben ?")
    entry.locator(".notification-open").click()

    reader.locator("#thread-messages .message-note", has_text="Could you check this").wait_for()
    expect(badge).to_be_hidden()
    assert Notification.objects.get().read_at is not None
    assert writer.errors == [] and reader.errors == []


def test_a_macro_chosen_from_the_headers_menu_applies_in_one_click(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    Macro.objects.create(
        name="Urgent",
        owner=anna,
        actions=[{"type": "set_priority", "priority": "urgent"}, {"type": "resolve"}],
    )
    conversation_id = maria_writes(live_server_url, live_channel)
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation_id}")

    page.click("#thread-header [data-macro-menu]")
    page.locator("#thread-header [data-apply-macro]", has_text="Urgent").click()

    page.locator(".toast", has_text="Macro “Urgent” applied.").wait_for()
    expect(page.locator("#thread-header")).to_have_attribute("data-status", "resolved")
    expect(page.locator("#priority-select")).to_have_value("urgent")
    assert page.errors == []


def test_an_operator_writes_a_macro_on_the_macros_page(live_server_url, open_pages, team):
    anna = operator_with_password("anna", "Anna", team)
    page = signed_in(open_pages(), live_server_url, anna)
    page.goto(f"{live_server_url}/macros/")

    page.fill("#macro-name", "Ask for the order number")
    page.fill("#macro-actions", '[{"type": "add_note", "body": "Asked"}, {"type": "explode"}]')
    page.click("#macro-form button[type='submit']")
    expect(page.locator("#macro-error")).to_contain_text("each action needs a type")
    assert not Macro.objects.exists()

    page.fill("#macro-actions", '[{"type": "add_note", "body": "Asked for the number"}]')
    page.click("#macro-form button[type='submit']")

    page.locator("#macros a", has_text="Ask for the order number").wait_for()
    macro = Macro.objects.get()
    assert (macro.owner, macro.is_shared, macro.actions[0]["body"]) == (
        anna,
        False,
        "Asked for the number",
    )
    assert page.locator("input[name='is_shared']").count() == 0  # operators do not share
    assert page.errors == []


def test_a_colleague_is_found_by_a_name_in_any_alphabet_after_the_at_sign(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    operator_with_password("boris", "Борис", team)
    conversation_id = maria_writes(live_server_url, live_channel)
    page = signed_in(open_pages(), live_server_url, anna, f"/?conversation={conversation_id}")

    page.check("input[name='mode'][value='note']", force=True)
    page.click("#reply-body")
    page.keyboard.type("@Бор")
    page.locator("#mention-list [role='option']", has_text="@boris").wait_for()
    page.keyboard.press("Enter")

    assert page.input_value("#reply-body") == "@boris "
    assert page.errors == []
