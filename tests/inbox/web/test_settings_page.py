"""The settings page lists labels and canned replies; only supervisors and admins get the
label forms (the API refuses operators anyway)."""

import pytest

from tests.factories import CannedResponseFactory, LabelFactory

pytestmark = pytest.mark.django_db


def test_an_operator_sees_labels_read_only_and_edits_their_own_canned_replies(
    client, operator, supervisor
):
    LabelFactory(name="Refund", color="#dc2626")
    CannedResponseFactory(
        shortcut="thanks",
        body="Thanks, {{customer.first_name}}!",
        is_shared=False,
        created_by=operator,
    )
    CannedResponseFactory(shortcut="refund", body="Refunds take 5 days.", created_by=supervisor)
    CannedResponseFactory(
        shortcut="sams-own", body="Sam's draft", is_shared=False, created_by=supervisor
    )
    client.force_login(operator)

    page = client.get("/settings/").content.decode()

    assert 'class="label-chip" style="--label-color: #dc2626">Refund<' in page
    assert "data-label-form" not in page and 'id="new-label-form"' not in page
    assert 'value="thanks"' in page and "Thanks, {{customer.first_name}}!" in page
    assert 'id="new-canned-form"' in page and 'name="is_shared"' not in page
    # The shared reply is shown, not offered for editing; a supervisor's own is not shown.
    assert "/refund</kbd> Refunds take 5 days." in page and 'value="refund"' not in page
    assert "sams-own" not in page


def test_a_supervisor_gets_the_label_forms(client, supervisor):
    LabelFactory(name="VIP", color="#7c3aed")
    client.force_login(supervisor)

    page = client.get("/settings/").content.decode()

    assert 'value="VIP"' in page and 'value="#7c3aed"' in page
    assert 'id="new-label-form"' in page


def test_the_settings_page_needs_a_login(client):
    response = client.get("/settings/")

    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_inbox_links_to_the_settings(client, operator):
    client.force_login(operator)

    assert 'href="/settings/"' in client.get("/").content.decode()
