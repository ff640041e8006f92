"""An operator switches their pages to Russian on the settings page, and back, in a real
browser against the live server; the choice holds on every page and over a new sign-in."""

import pytest

from inbox.models import User
from tests.live.test_inbox_browser import operator_with_password, signed_in

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
