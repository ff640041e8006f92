"""An operator switches their pages to Russian on the settings page, and back, in a real
browser against the live server; the choice holds on every page and over a new sign-in."""

from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from customers.models import Identity
from inbox.models import Conversation, Message, MessageDirection, MessageStatus, User
from tests.factories import MessageFactory
from tests.inbox.web.test_pages_in_languages import latin_texts_left
from tests.live.test_inbox_browser import (
    conversation_id_of,
    item,
    operator_with_password,
    post_webhook,
    signed_in,
)

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def test_an_operator_switches_to_russian_and_back(live_server_url, open_pages, team):
    anna = operator_with_password("anna", "Anna", team)
    page = open_pages(locale="en-US")
    signed_in(page, live_server_url, anna)
    assert page.locator("#list-title").inner_text() == "Conversations"

    page.goto(live_server_url + "/settings/")
    page.select_option("#language-select", "ru")
    page.wait_for_selector("html[lang='ru']")

    # The page came back in Russian, and its script speaks Russian too.
    assert page.locator("main h1").inner_text() == "Настройки"
    page.wait_for_selector("#settings-status:has-text('Язык сохранён.')")
    assert User.objects.get(pk=anna.pk).language == "ru"
    page.goto(live_server_url + "/")
    assert page.locator("#list-title").inner_text() == "Диалоги"
    assert page.locator("#send-button").inner_text() == "Отправить"

    page.goto(live_server_url + "/settings/")
    page.select_option("#language-select", "")
    page.wait_for_selector("html[lang='en']")
    assert page.locator("main h1").inner_text() == "Settings"
    page.wait_for_selector("#settings-status:has-text('Language saved.')")
    assert User.objects.get(pk=anna.pk).language == ""
    assert page.errors == []


def test_the_inbox_script_speaks_the_operators_language(
    live_server_url, open_pages, team, live_channel
):
    anna = operator_with_password("anna", "Anna", team)
    anna.language, anna.time_zone = "ru", "Asia/Tokyo"
    anna.save(update_fields=["language", "time_zone"])
    boris = operator_with_password("boris", "Boris", team)
    conversation_id = conversation_id_of(
        post_webhook(
            live_server_url,
            live_channel,
            message_id="ru-1",
            sender_id="u-ivan",
            name="Иван Петров",
            text="Где мой заказ?",
        )
    )
    # A reply that could not go: why, in her language.
    MessageFactory(
        conversation=Conversation.objects.get(pk=conversation_id),
        author=anna,
        body="Уже отправляю",
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.FAILED,
        error={"code": "nothing_to_send"},
    )
    # Her browser asks for English in New York: her own choices win.
    page = signed_in(
        open_pages(locale="en-US", timezone_id="America/New_York"), live_server_url, anna
    )

    assert page.locator("#live-status").inner_text() == "Подключено"
    listed = item(page, conversation_id)
    assert listed.locator(".assignee").inner_text() == "Без исполнителя"
    assert listed.locator(".conversation-time").inner_text() == "сейчас"
    assert page.locator("#send-button").inner_text() == "Отправить"
    failure = page.locator("#thread-messages .message-error").inner_text()
    assert "В ответе нет ни текста, ни вложений." in failure
    written = Message.objects.get(
        conversation_id=conversation_id, direction=MessageDirection.INBOUND
    ).created_at
    in_tokyo = written.astimezone(ZoneInfo("Asia/Tokyo"))
    shown = page.locator("#thread-messages .message-in time[data-clock]").inner_text()
    hour, minute = shown.split(":")
    assert (int(hour), minute) == (in_tokyo.hour, f"{in_tokyo.minute:02d}")
    assert page.locator("#composer-channel").inner_text() == f"Отправка через {live_channel.name}"
    page.check("#private-note", force=True)
    assert page.locator("#send-button").inner_text() == "Добавить заметку"

    page.fill("#search-input", "заказ")
    page.wait_for_selector("#search-status:has-text('1 диалог по запросу «заказ»')")
    page.keyboard.press("Escape")

    # A colleague working in English resolves it: the line arrives live, in her language.
    boris_client = Client()
    boris_client.force_login(boris)
    assert boris_client.post(f"/api/v1/conversations/{conversation_id}/resolve/").status_code == 200
    page.locator("#thread-messages .thread-event", has_text="Boris: диалог решён").wait_for()
    # Whatever the script wrote on the page, none of it is a text nobody marked.
    shown = {
        "Anna", "Boris", "anna", "boris", team.name, live_channel.name, "Иван Петров",
        "Где мой заказ?", *Identity.objects.values_list("value", flat=True),
    }  # fmt: skip
    assert latin_texts_left(page.content(), shown) == []
    assert page.errors == []
