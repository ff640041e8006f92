"""Who may do what: every operation of the API schema, the product's pages and both
websockets, for each role, against one explicit table of expected answers.

Roles: `admin`, `supervisor`, `operator` (in the team serving the conversation's channel),
`outsider` (an operator of another team) and `anonymous`. A new API operation without a
row in API_MATRIX fails `test_every_schema_operation_has_a_row`.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from inbox.web import urls as inbox_web_urls
from tests.access.world import ROLES, World, world_build
from tests.conftest import client_for

# (path as in the schema, method) -> expected status per role, in the order of ROLES:
# admin, supervisor, operator, outsider, anonymous.
API_MATRIX: dict[tuple[str, str], tuple[int, int, int, int, int]] = {
    # Admins only: the audit log, channels, operators' and teams' changes, erasure.
    ("/api/v1/audit-log/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/channels/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/channels/", "POST"): (201, 403, 403, 403, 401),
    ("/api/v1/channels/{channel_id}/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/channels/{channel_id}/", "PATCH"): (200, 403, 403, 403, 401),
    ("/api/v1/channels/{channel_id}/", "DELETE"): (204, 403, 403, 403, 401),
    ("/api/v1/operators/", "POST"): (201, 403, 403, 403, 401),
    ("/api/v1/operators/{operator_id}/", "PATCH"): (200, 403, 403, 403, 401),
    ("/api/v1/operators/{operator_id}/two-factor/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/operators/{operator_id}/two-factor/reset/", "POST"): (200, 403, 403, 403, 401),
    ("/api/v1/teams/", "POST"): (201, 403, 403, 403, 401),
    ("/api/v1/teams/{team_id}/", "PUT"): (200, 403, 403, 403, 401),
    ("/api/v1/teams/{team_id}/", "PATCH"): (200, 403, 403, 403, 401),
    ("/api/v1/teams/{team_id}/", "DELETE"): (204, 403, 403, 403, 401),
    ("/api/v1/customers/{customer_id}/erase/", "POST"): (200, 403, 403, 403, 401),
    ("/api/v1/business-hours/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/business-hours/", "POST"): (201, 403, 403, 403, 401),
    ("/api/v1/business-hours/{business_hours_id}/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/business-hours/{business_hours_id}/", "PUT"): (200, 403, 403, 403, 401),
    ("/api/v1/business-hours/{business_hours_id}/", "PATCH"): (200, 403, 403, 403, 401),
    # In use by a policy: refused until the policy lets go of it.
    ("/api/v1/business-hours/{business_hours_id}/", "DELETE"): (400, 403, 403, 403, 401),
    ("/api/v1/sla-policies/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/sla-policies/", "POST"): (201, 403, 403, 403, 401),
    ("/api/v1/sla-policies/{sla_policy_id}/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/sla-policies/{sla_policy_id}/", "PUT"): (200, 403, 403, 403, 401),
    ("/api/v1/sla-policies/{sla_policy_id}/", "PATCH"): (200, 403, 403, 403, 401),
    ("/api/v1/sla-policies/{sla_policy_id}/", "DELETE"): (204, 403, 403, 403, 401),
    ("/api/v1/automation-rules/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/automation-rules/", "POST"): (201, 403, 403, 403, 401),
    ("/api/v1/automation-rules/order/", "POST"): (200, 403, 403, 403, 401),
    ("/api/v1/automation-rules/{rule_id}/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/automation-rules/{rule_id}/", "PATCH"): (200, 403, 403, 403, 401),
    ("/api/v1/automation-rules/{rule_id}/", "DELETE"): (204, 403, 403, 403, 401),
    ("/api/v1/automation-rules/{rule_id}/runs/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/automation-rules/{rule_id}/try/", "POST"): (200, 403, 403, 403, 401),
    ("/api/v1/webhooks/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/webhooks/", "POST"): (201, 403, 403, 403, 401),
    ("/api/v1/webhooks/{webhook_id}/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/webhooks/{webhook_id}/", "PUT"): (200, 403, 403, 403, 401),
    ("/api/v1/webhooks/{webhook_id}/", "PATCH"): (200, 403, 403, 403, 401),
    ("/api/v1/webhooks/{webhook_id}/", "DELETE"): (204, 403, 403, 403, 401),
    ("/api/v1/webhooks/{webhook_id}/deliveries/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver/", "POST"): (
        202,
        403,
        403,
        403,
        401,
    ),
    ("/api/v1/webhooks/{webhook_id}/test/", "POST"): (202, 403, 403, 403, 401),
    ("/api/v1/settings/nps/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/settings/nps/", "PATCH"): (200, 403, 403, 403, 401),
    ("/api/v1/settings/follow-ups/", "GET"): (200, 403, 403, 403, 401),
    ("/api/v1/settings/follow-ups/", "PATCH"): (200, 403, 403, 403, 401),
    # Supervisors and admins: reports, labels' changes, a customer's export.
    ("/api/v1/reports/conversations/", "GET"): (200, 200, 403, 403, 401),
    ("/api/v1/reports/csat/", "GET"): (200, 200, 403, 403, 401),
    ("/api/v1/reports/nps/", "GET"): (200, 200, 403, 403, 401),
    ("/api/v1/reports/ces/", "GET"): (200, 200, 403, 403, 401),
    ("/api/v1/conversations/export/", "GET"): (200, 200, 403, 403, 401),
    ("/api/v1/labels/", "POST"): (201, 201, 403, 403, 401),
    ("/api/v1/labels/{label_id}/", "PATCH"): (200, 200, 403, 403, 401),
    ("/api/v1/labels/{label_id}/", "DELETE"): (204, 204, 403, 403, 401),
    ("/api/v1/customers/{customer_id}/export/", "GET"): (200, 200, 403, 403, 401),
    # Whoever may see the conversation: supervisors, admins, operators of a team serving
    # its channel; to anyone else it does not exist. (Reopening the open conversation is
    # refused as invalid, after access was granted.)
    ("/api/v1/conversations/{conversation_id}/", "GET"): (200, 200, 200, 404, 401),
    ("/api/v1/conversations/{conversation_id}/", "PATCH"): (200, 200, 200, 404, 401),
    ("/api/v1/conversations/{conversation_id}/assign/", "POST"): (200, 200, 200, 404, 401),
    ("/api/v1/conversations/{conversation_id}/events/", "GET"): (200, 200, 200, 404, 401),
    ("/api/v1/conversations/{conversation_id}/labels/", "POST"): (200, 200, 200, 404, 401),
    ("/api/v1/conversations/{conversation_id}/messages/", "GET"): (200, 200, 200, 404, 401),
    ("/api/v1/conversations/{conversation_id}/messages/", "POST"): (201, 201, 201, 404, 401),
    ("/api/v1/conversations/{conversation_id}/messages/{message_id}/retry/", "POST"): (
        200,
        200,
        200,
        404,
        401,
    ),
    ("/api/v1/conversations/{conversation_id}/reopen/", "POST"): (400, 400, 400, 404, 401),
    ("/api/v1/conversations/{conversation_id}/resolve/", "POST"): (200, 200, 200, 404, 401),
    ("/api/v1/conversations/{conversation_id}/snooze/", "POST"): (200, 200, 200, 404, 401),
    # A customer is seen by whoever sees one of their conversations.
    ("/api/v1/customers/{customer_id}/", "GET"): (200, 200, 200, 404, 401),
    ("/api/v1/customers/{customer_id}/", "PATCH"): (200, 200, 200, 404, 401),
    ("/api/v1/customers/{customer_id}/merge/", "POST"): (201, 201, 201, 404, 401),
    ("/api/v1/customer-merges/{merge_id}/undo/", "POST"): (200, 200, 200, 404, 401),
    # Every signed-in user: lists (bounded to what each sees), the directory, oneself.
    ("/api/v1/conversations/", "GET"): (200, 200, 200, 200, 401),
    # Checked per conversation: an outsider's call answers, with each one refused in it.
    ("/api/v1/conversations/bulk/", "POST"): (200, 200, 200, 200, 401),
    ("/api/v1/customers/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/surveys/", "GET"): (200, 200, 200, 200, 401),
    # Whoever sees the survey writes down its follow-up's outcome.
    ("/api/v1/surveys/{survey_id}/follow-up/", "PATCH"): (200, 200, 200, 404, 401),
    ("/api/v1/labels/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/labels/{label_id}/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/operators/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/operators/{operator_id}/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/operators/me/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/notifications/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/notifications/read/", "POST"): (200, 200, 200, 200, 401),
    ("/api/v1/operators/me/", "PATCH"): (200, 200, 200, 200, 401),
    ("/api/v1/teams/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/teams/{team_id}/", "GET"): (200, 200, 200, 200, 401),
    # Canned responses: the one here is shared, so supervisors and admins change it; an
    # operator's new one is personal.
    # Macros: the one here is shared, as above; applied to a conversation its user may see.
    ("/api/v1/macros/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/macros/", "POST"): (201, 201, 201, 201, 401),
    ("/api/v1/macros/{macro_id}/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/macros/{macro_id}/", "PATCH"): (200, 200, 403, 403, 401),
    ("/api/v1/macros/{macro_id}/", "DELETE"): (204, 204, 403, 403, 401),
    ("/api/v1/macros/{macro_id}/apply/", "POST"): (200, 200, 200, 404, 401),
    ("/api/v1/canned-responses/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/canned-responses/", "POST"): (201, 201, 201, 201, 401),
    ("/api/v1/canned-responses/{canned_response_id}/", "GET"): (200, 200, 200, 200, 401),
    ("/api/v1/canned-responses/{canned_response_id}/", "PUT"): (200, 200, 403, 403, 401),
    ("/api/v1/canned-responses/{canned_response_id}/", "PATCH"): (200, 200, 403, 403, 401),
    ("/api/v1/canned-responses/{canned_response_id}/", "DELETE"): (204, 204, 403, 403, 401),
}

# The body each writing operation is sent with: valid, so an allowed role gets a 2xx.
BODIES: dict[tuple[str, str], dict] = {
    ("/api/v1/business-hours/", "POST"): {
        "name": "matrix-new",
        "timezone": "Europe/Warsaw",
        "weekly": {"mon": [["09:00", "13:00"], ["14:00", "18:00"]]},
        "holidays": ["2026-12-24"],
    },
    ("/api/v1/business-hours/{business_hours_id}/", "PUT"): {
        "name": "matrix-put",
        "timezone": "America/New_York",
        "weekly": {"tue": [["08:00", "16:00"]]},
    },
    ("/api/v1/business-hours/{business_hours_id}/", "PATCH"): {"holidays": ["2027-01-01"]},
    ("/api/v1/sla-policies/", "POST"): {"name": "matrix-new", "first_response_minutes": 30},
    ("/api/v1/sla-policies/{sla_policy_id}/", "PUT"): {
        "name": "matrix-put",
        "resolution_minutes": 600,
        "business_hours": None,
    },
    ("/api/v1/sla-policies/{sla_policy_id}/", "PATCH"): {"priorities": ["urgent"]},
    ("/api/v1/canned-responses/", "POST"): {"shortcut": "matrix-new", "body": "Hello"},
    ("/api/v1/macros/", "POST"): {
        "name": "matrix-new",
        "actions": [{"type": "add_note", "body": "Checked"}],
    },
    ("/api/v1/macros/{macro_id}/", "PATCH"): {"name": "Renamed"},
    ("/api/v1/macros/{macro_id}/apply/", "POST"): {"conversation": "{conversation_id}"},
    ("/api/v1/canned-responses/{canned_response_id}/", "PUT"): {
        "shortcut": "matrix-put",
        "body": "Changed",
    },
    ("/api/v1/canned-responses/{canned_response_id}/", "PATCH"): {"body": "Changed"},
    ("/api/v1/channels/", "POST"): {
        "kind": "webchat",
        "name": "Site",
        "config": {"allowed_origins": ["https://shop.example.com"]},
    },
    ("/api/v1/channels/{channel_id}/", "PATCH"): {"name": "Renamed"},
    ("/api/v1/conversations/{conversation_id}/", "PATCH"): {"priority": "urgent"},
    ("/api/v1/conversations/{conversation_id}/assign/", "POST"): {"operator": None},
    ("/api/v1/conversations/{conversation_id}/labels/", "POST"): {"labels": []},
    ("/api/v1/conversations/{conversation_id}/messages/", "POST"): {
        "body": "Checked",
        "private": True,
    },
    ("/api/v1/conversations/{conversation_id}/snooze/", "POST"): {"until": "2099-01-01T00:00:00Z"},
    ("/api/v1/conversations/bulk/", "POST"): {"ids": ["{conversation_id}"], "action": "resolve"},
    ("/api/v1/customers/{customer_id}/", "PATCH"): {"name": "Renamed"},
    ("/api/v1/customers/{customer_id}/merge/", "POST"): {"other": "{duplicate_id}"},
    ("/api/v1/labels/", "POST"): {"name": "matrix-new"},
    ("/api/v1/labels/{label_id}/", "PATCH"): {"name": "matrix-renamed"},
    ("/api/v1/operators/", "POST"): {
        "username": "matrix-new",
        "role": "operator",
        "password": "a-long-new-passphrase-42",
    },
    ("/api/v1/operators/{operator_id}/", "PATCH"): {"first_name": "Renamed"},
    ("/api/v1/operators/me/", "PATCH"): {"language": "ru"},
    ("/api/v1/notifications/read/", "POST"): {"all": True},
    ("/api/v1/settings/nps/", "PATCH"): {"interval_days": 60},
    ("/api/v1/settings/follow-ups/", "PATCH"): {"action": "new_conversation"},
    ("/api/v1/automation-rules/", "POST"): {
        "name": "matrix-new",
        "trigger": "conversation_created",
        "actions": [{"type": "set_priority", "priority": "high"}],
    },
    ("/api/v1/automation-rules/order/", "POST"): {"order": ["{rule_id}"]},
    ("/api/v1/automation-rules/{rule_id}/", "PATCH"): {"is_active": False},
    ("/api/v1/automation-rules/{rule_id}/try/", "POST"): {"limit": 10},
    ("/api/v1/surveys/{survey_id}/follow-up/", "PATCH"): {"note": "Called back"},
    ("/api/v1/webhooks/", "POST"): {
        "url": "https://crm.example.com/hook",
        "events": ["conversation.created"],
        "secret": "matrix-new-secret-0123",
    },
    ("/api/v1/webhooks/{webhook_id}/", "PUT"): {
        "url": "https://crm.example.com/put",
        "events": ["message.created"],
    },
    ("/api/v1/webhooks/{webhook_id}/", "PATCH"): {"description": "CRM"},
    ("/api/v1/teams/", "POST"): {"name": "matrix-new"},
    ("/api/v1/teams/{team_id}/", "PUT"): {"name": "matrix-put"},
    ("/api/v1/teams/{team_id}/", "PATCH"): {"name": "matrix-renamed"},
}


def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (path, method.upper())
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def client_as(world: World, role: str) -> APIClient:
    user = world.users[role]
    return client_for(user) if user is not None else APIClient()


def filled(template, ids: dict[str, int | str]):
    if isinstance(template, str):
        for name, value in ids.items():
            if template == f"{{{name}}}":
                return value
        return template.format(**ids)
    if isinstance(template, dict):
        return {key: filled(value, ids) for key, value in template.items()}
    if isinstance(template, list):
        return [filled(value, ids) for value in template]
    return template


def answer(world: World, role: str, path: str, method: str) -> int:
    """The status one role gets, with everything the request changed rolled back."""
    client = client_as(world, role)
    url = filled(path, world.ids)
    body = filled(BODIES.get((path, method)), world.ids)
    with transaction.atomic():
        response = getattr(client, method.lower())(url, body, format="json")
        transaction.set_rollback(True)
    return response.status_code


# The product's pages, opened in a browser signed in as each role (302: to the sign-in
# page). The attachment is a file of the conversation, without a signed link. A new page
# of the inbox without a row fails `test_every_inbox_page_has_a_row`.
PAGE_MATRIX: dict[str, tuple[int, int, int, int, int]] = {
    "/": (200, 200, 200, 200, 302),
    "/inbox/list/": (200, 200, 200, 200, 302),
    "/inbox/counts/": (200, 200, 200, 200, 302),
    "/inbox/search/?q=matrix": (200, 200, 200, 200, 302),
    "/inbox/presence/": (200, 200, 200, 200, 302),
    "/inbox/conversations/{conversation_id}/": (200, 200, 200, 404, 302),
    "/reports/csat/": (200, 200, 403, 403, 302),
    "/reports/surveys/": (200, 200, 403, 403, 302),
    "/reports/response-times/": (200, 200, 403, 403, 302),
    "/settings/": (200, 200, 200, 200, 302),
    # Everyone's macros page: the one here is shared, so everyone reads it.
    "/macros/": (200, 200, 200, 200, 302),
    "/macros/{macro_id}/": (200, 200, 200, 200, 302),
    # The automation rules' pages are the admins'; others find nothing there.
    "/automation/": (200, 404, 404, 404, 302),
    # Signed in already: on to the inbox.
    "/login/": (302, 302, 302, 302, 200),
    # The second step of signing in: without a password step pending, back to the first.
    "/login/code/": (302, 302, 302, 302, 302),
    "/login/set-up/": (302, 302, 302, 302, 302),
    # Each operator's own two-step sign-in; its changes are POSTs (with the CSRF token).
    "/settings/two-factor/": (200, 200, 200, 200, 302),
    "/settings/two-factor/turn-off/": (405, 405, 405, 405, 302),
    "/settings/two-factor/recovery-codes/": (405, 405, 405, 405, 302),
    # Signing out is a POST (with its CSRF token).
    "/logout/": (405, 405, 405, 405, 405),
    # The Django admin is for admins (staff) alone; others are sent to its sign-in.
    "/admin/": (200, 302, 302, 302, 302),
    # Its sign-in page: an admin signed in goes on to it; anyone else gets the form.
    "/admin/login/": (302, 200, 200, 200, 200),
    # The schema and its docs are for signed-in users (API_DOCS_PUBLIC opens them).
    "/api/v1/schema/": (200, 200, 200, 200, 401),
    "/api/v1/docs/": (200, 200, 200, 200, 401),
    "/media/{attachment_path}": (200, 200, 200, 404, 401),
    "/widget.js": (200, 200, 200, 200, 200),
    "/jsi18n/": (200, 200, 200, 200, 200),
    "/healthz/": (200, 200, 200, 200, 200),
}


@pytest.fixture
def world(db, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    return world_build()


def page_answer(world: World, role: str, path: str) -> int:
    client = Client()
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client.get(filled(path, world.ids)).status_code


def test_pages_answer_each_role_as_the_table_says(world):
    actual = {path: tuple(page_answer(world, role, path) for role in ROLES) for path in PAGE_MATRIX}
    if actual != PAGE_MATRIX:
        print("\n".join(f"    {key!r}: {value!r}," for key, value in actual.items()))
    assert actual == PAGE_MATRIX


def test_every_inbox_page_has_a_row():
    named = {pattern.name for pattern in inbox_web_urls.urlpatterns}
    covered = {
        resolve(re.sub(r"\{\w+\}", "1", urlsplit(path).path)).url_name for path in PAGE_MATRIX
    }
    assert sorted(named - covered) == [], "pages without a row"


def test_lists_hold_only_what_each_role_may_see(world):
    conversation_id = world.ids["conversation_id"]
    customer_id = world.ids["customer_id"]
    for role in ("admin", "supervisor", "operator", "outsider"):
        client = client_as(world, role)
        conversations = client.get("/api/v1/conversations/").json()["results"]
        customers = client.get("/api/v1/customers/").json()["results"]
        browser = Client()
        browser.force_login(world.users[role])
        found = browser.get("/inbox/search/", {"q": world.conversation.customer.name}).json()[
            "items"
        ]
        may_see = role != "outsider"
        assert (conversation_id in {row["id"] for row in conversations}) is may_see, role
        assert (customer_id in {row["id"] for row in customers}) is may_see, role
        assert (conversation_id in {item["id"] for item in found}) is may_see, role


def test_every_schema_operation_has_a_row():
    operations = schema_operations()
    assert sorted(operations - API_MATRIX.keys()) == [], "operations without a row"
    assert sorted(API_MATRIX.keys() - operations) == [], "rows for operations that are gone"


def test_api_answers_each_role_as_the_table_says(world):
    wrong = {}
    actual = {}
    for path, method in sorted(schema_operations()):
        got = tuple(answer(world, role, path, method) for role in ROLES)
        actual[(path, method)] = got
        if API_MATRIX.get((path, method)) != got:
            wrong[(path, method)] = got
    if wrong:
        print("\n".join(f"    {key!r}: {value!r}," for key, value in sorted(actual.items())))
    assert wrong == {}
