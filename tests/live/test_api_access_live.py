"""On the production web tier (pooled connections that outlive their request, statements
prepared on them), what an operator may read through the API follows their access from the
very next request: a team left or joined, a token revoked. Nothing about who may see what
is kept between requests, in any worker process."""

import httpx
import pytest
from rest_framework.authtoken.models import Token

from inbox import people
from tests.factories import ConversationFactory, IdentityFactory, MessageFactory

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]

# Enough requests that each worker process answers several: its statements are prepared
# and its connections pooled by the time access changes.
REQUESTS = 12


@pytest.fixture
def conversation(channel):
    conversation = ConversationFactory(channel=channel, subject="Where is my kettle")
    MessageFactory(conversation=conversation, body="It has not arrived")
    IdentityFactory(customer=conversation.customer)
    return conversation


def what_the_api_shows(api: httpx.Client, conversation) -> dict:
    customers = api.get("/api/v1/customers/", params={"q": conversation.customer.name})
    listed = api.get("/api/v1/conversations/", params={"q": "kettle"})
    return {
        "list": [row["id"] for row in api.get("/api/v1/conversations/").json()["results"]],
        "search": [row["id"] for row in listed.json()["results"]],
        "detail": api.get(f"/api/v1/conversations/{conversation.pk}/").status_code,
        "messages": api.get(f"/api/v1/conversations/{conversation.pk}/messages/").status_code,
        "customers": [row["id"] for row in customers.json()["results"]],
    }


def seen(conversation) -> dict:
    return {
        "list": [conversation.pk],
        "search": [conversation.pk],
        "detail": 200,
        "messages": 200,
        "customers": [conversation.customer_id],
    }


NOTHING = {"list": [], "search": [], "detail": 404, "messages": 404, "customers": []}


def test_leaving_and_joining_a_team_counts_from_the_next_request(
    live_server_url, operator, team, conversation
):
    token = people.operator_api_token(user=operator)
    with httpx.Client(
        base_url=live_server_url, headers={"Authorization": f"Token {token}"}, timeout=10
    ) as api:
        for _ in range(REQUESTS):
            assert what_the_api_shows(api, conversation) == seen(conversation)

        team.members.remove(operator)
        for _ in range(REQUESTS):
            assert what_the_api_shows(api, conversation) == NOTHING

        team.members.add(operator)
        for _ in range(REQUESTS):
            assert what_the_api_shows(api, conversation) == seen(conversation)


def test_a_revoked_token_is_refused_from_the_next_request(live_server_url, operator, conversation):
    token = people.operator_api_token(user=operator)
    with httpx.Client(
        base_url=live_server_url, headers={"Authorization": f"Token {token}"}, timeout=10
    ) as api:
        for _ in range(REQUESTS):
            assert api.get("/api/v1/conversations/").status_code == 200

        Token.objects.filter(key=token).delete()

        for _ in range(REQUESTS):
            response = api.get("/api/v1/conversations/")
            assert response.status_code == 401
            assert response.json()["detail"] == "Invalid token."


def test_a_deactivated_operator_is_refused_from_the_next_request(
    live_server_url, operator, conversation
):
    token = people.operator_api_token(user=operator)
    with httpx.Client(
        base_url=live_server_url, headers={"Authorization": f"Token {token}"}, timeout=10
    ) as api:
        assert api.get(f"/api/v1/conversations/{conversation.pk}/").status_code == 200

        operator.is_active = False
        operator.save(update_fields=["is_active"])

        for _ in range(REQUESTS):
            assert api.get(f"/api/v1/conversations/{conversation.pk}/").status_code == 401
