"""The settings page in a real browser: a supervisor adds a label and a canned reply, and
an operator then finds the reply by its shortcut in the inbox."""

import pytest

from inbox.models import CannedResponse, Label, Role
from tests.live.test_inbox_browser import operator_with_password, signed_in

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_adds_a_label_and_a_canned_reply(live_server_url, open_pages, team):
    sam = operator_with_password("sam", "Sam", team)
    sam.role = Role.SUPERVISOR
    sam.save(update_fields=["role"])
    page = open_pages()
    page.on("dialog", lambda dialog: dialog.accept())
    signed_in(page, live_server_url, sam)

    page.click("a[href='/settings/']")
    page.fill("#new-label-name", "Refund")
    page.click("#new-label-form button[type=submit]")
    page.wait_for_selector("#label-list [data-label-id] input[value='Refund']")
    page.fill("#new-canned-shortcut", "thanks")
    page.fill("#new-canned-body", "Thanks for writing, {{customer.first_name}}!")
    page.click("#new-canned-form button[type=submit]")
    page.wait_for_selector("#canned-list input[value='thanks']")

    assert page.locator("#settings-status").inner_text() == "Canned reply added."
    assert list(Label.objects.values_list("name", flat=True)) == ["Refund"]
    assert CannedResponse.objects.get().body == "Thanks for writing, {{customer.first_name}}!"

    page.fill("#label-list input[name=name]", "Refunds")
    page.click("#label-list button[type=submit]")
    page.wait_for_selector("#label-list input[value='Refunds']")
    page.click("#canned-list [data-delete-canned]")
    page.wait_for_selector("#canned-list .settings-empty")
    assert not CannedResponse.objects.exists()
    assert page.errors == []


def test_an_operator_sees_why_a_duplicate_shortcut_is_refused(live_server_url, open_pages, team):
    anna = operator_with_password("anna", "Anna", team)
    CannedResponse.objects.create(shortcut="hello", body="Hello!", created_by=anna)
    page = signed_in(open_pages(), live_server_url, anna)
    page.goto(f"{live_server_url}/settings/")

    page.fill("#new-canned-shortcut", "hello")
    page.fill("#new-canned-body", "Hi again")
    page.click("#new-canned-form button[type=submit]")

    page.wait_for_selector("#settings-status.is-error")
    assert "shortcut" in page.locator("#settings-status").inner_text().lower()
    assert CannedResponse.objects.count() == 1
