"""Merging customers from the profile pane: what the pane shows before, after and on undo."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ConversationFactory, CustomerFactory, IdentityFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def duplicates(channel):
    survivor = CustomerFactory(name="Maria Garcia", email="maria@example.com")
    IdentityFactory(customer=survivor, kind="email", value="maria@example.com")
    duplicate = CustomerFactory(name="<b>Maria</b> on Telegram", email="")
    IdentityFactory(customer=duplicate, kind="telegram", value="tg-555")
    current = ConversationFactory(channel=channel, customer=survivor)
    MessageFactory(conversation=current, body="Email about my order")
    other = ConversationFactory(channel=channel, customer=duplicate)
    MessageFactory(conversation=other, body="Telegram about my order")
    return survivor, duplicate, current, other


def profile_html(client, conversation) -> str:
    response = client.get(f"/inbox/conversations/{conversation.pk}/")
    assert response.status_code == 200
    return response.json()["profile_html"]


def test_the_profile_offers_merge_and_no_undo_before_any_merge(client, operator, duplicates):
    client.force_login(operator)
    survivor, _, current, _ = duplicates

    html = profile_html(client, current)

    assert f'data-merge-customer="{survivor.pk}"' in html
    assert "Merge with…" in html
    assert "data-merge-undo" not in html


def test_after_a_merge_the_profile_shows_both_identities_the_timeline_and_undo(
    client, operator, duplicates
):
    client.force_login(operator)
    survivor, duplicate, current, other = duplicates

    response = client.post(
        f"/api/v1/customers/{survivor.pk}/merge/",
        {"other": duplicate.pk},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    merge_id = response.json()["id"]

    html = profile_html(client, current)
    assert "maria@example.com" in html and "tg-555" in html
    assert f'data-open-conversation="{other.pk}"' in html
    assert f'data-merge-undo="{merge_id}"' in html
    # The duplicate's name is text, never markup.
    assert "&lt;b&gt;Maria&lt;/b&gt; on Telegram" in html
    assert "<b>Maria</b>" not in html

    undo = client.post(f"/api/v1/customer-merges/{merge_id}/undo/")
    assert undo.status_code == 200

    html = profile_html(client, current)
    assert "tg-555" not in html
    assert f'data-open-conversation="{other.pk}"' not in html
    assert "data-merge-undo" not in html


def test_the_latest_merge_costs_no_extra_query(client, operator, duplicates):
    client.force_login(operator)
    survivor, duplicate, current, _ = duplicates

    def pane_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            profile_html(client, current)
        return len(captured)

    before = pane_queries()
    client.post(
        f"/api/v1/customers/{survivor.pk}/merge/",
        {"other": duplicate.pk},
        content_type="application/json",
    )

    assert pane_queries() == before
