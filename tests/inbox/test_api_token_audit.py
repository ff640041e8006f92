"""A refused API token is on the audit log: once a minute per client address and a
bounded number a minute in all, so a flood of wrong tokens cannot fill the table."""

import uuid

import pytest
from django.core.cache import cache

from inbox.audit import api_tokens
from inbox.audit.models import AuditAction, AuditRecord
from inbox.people import operator_api_token
from tests.inbox.two_factor_support import a_user, an_address

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_minute_counts():
    # The counts live in Redis across tests; each test starts from none.
    cache.clear()


def a_wrong_token_call(client, address: str, token: str | None = None):
    return client.get(
        "/api/v1/conversations/",
        HTTP_AUTHORIZATION=f"Token {token or uuid.uuid4().hex}",
        REMOTE_ADDR=address,
    )


def refused() -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action=AuditAction.API_TOKEN_FAILED).order_by("id"))


def test_a_wrong_token_is_recorded_once_a_minute_per_address(client):
    address, other_address = an_address(), an_address()

    answers = [a_wrong_token_call(client, address).status_code for _ in range(5)]
    a_wrong_token_call(client, other_address)

    assert answers == [401] * 5
    first, second = refused()
    assert (first.client_address, second.client_address) == (address, other_address)
    assert first.details == {"via": "api-token", "reason": "unknown", "once_a_minute": True}
    assert first.actor_id is None


def test_a_deactivated_users_token_is_recorded_with_who_it_was(client):
    user = a_user()
    token = operator_api_token(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert a_wrong_token_call(client, an_address(), token).status_code == 401

    [record] = refused()
    assert record.actor_id == user.pk and record.details["reason"] == "inactive"
    assert token not in str(record.details)


def test_a_flood_from_many_addresses_writes_a_bounded_number_of_records(client, monkeypatch):
    monkeypatch.setattr(api_tokens, "API_TOKEN_FAILURE_RECORDS_PER_MINUTE", 3)

    for _ in range(8):
        a_wrong_token_call(client, an_address())

    assert len(refused()) == 3


def test_a_right_token_writes_nothing(client):
    token = operator_api_token(user=a_user())

    answer = client.get("/api/v1/conversations/", HTTP_AUTHORIZATION=f"Token {token}")

    assert answer.status_code == 200
    assert not refused()
