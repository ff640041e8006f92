"""On PostgreSQL the conversation list and detail and the customer list are written as
JSON by the database (inbox.json_rows): the bytes must be those the API renderer gives
for the same rows."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import translation
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from customers.models import IdentityClaim
from inbox import selectors
from inbox.api.pagination import (
    ChronologicalCursorPagination,
    ConversationCursorPagination,
    CreatedCursorPagination,
)
from inbox.models import ConversationStatus, Priority, SlaPolicy
from inbox.representations import (
    conversation_row_representation,
    customer_row_representation,
    message_row_representation,
)
from tests.factories import (
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    LabelFactory,
    MessageFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL writes the JSON"),
]

# What a JSON encoder must escape, what it must not, and the two line separators the
# renderer escapes itself.
AWKWARD_TEXT = 'Zoë "quoted" \\ back\tslash\nnew line \x01 \u2028 \u2029 😀 </script>'
ON_THE_SECOND = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def rendered_by_the_serializer_path(user, url: str) -> bytes:
    """The page as the API rendered it before PostgreSQL wrote it: rows completed in
    Python, represented, paginated and rendered by DRF."""
    request = Request(APIRequestFactory().get(url))
    paginator: CursorPagination
    if "/messages/" in url:
        paginator = ChronologicalCursorPagination()
        conversation_id = int(url.split("/conversations/")[1].split("/")[0])
        rows = selectors.message_rows(conversation_id=conversation_id)
        complete, represent = selectors.message_rows_complete, message_row_representation
    elif "/customers/" in url:
        paginator = CreatedCursorPagination()
        query = request.query_params.get("q", "")
        rows = selectors.customer_rows_for_user(user=user, query=query)
        complete, represent = selectors.customer_rows_complete, customer_row_representation
    else:
        paginator = ConversationCursorPagination()
        rows = selectors.conversation_rows_for_user(
            user=user, filters=selectors.ConversationFilters()
        )
        complete, represent = selectors.conversation_rows_complete, conversation_row_representation
    page = complete(paginator.paginate_queryset(rows, request) or [])
    return JSONRenderer().render(
        {
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": [represent(row) for row in page],
        }
    )


def assert_same_bytes(client, user, url: str):
    # Signed attachment links expire from the second they are made: a page made across
    # the turn of a second is made again.
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        if response.content == rendered_by_the_serializer_path(user, url):
            return response
    assert response.content == rendered_by_the_serializer_path(user, url)
    return response


def walk_forwards_and_back(client, user, url: str) -> list[int]:
    """Follows `next` to the end and `previous` back to the start, each page compared with
    the serializer path's bytes; the ids seen on the way forwards."""
    seen = []
    while url:
        response = assert_same_bytes(client, user, url)
        seen += [row["id"] for row in response.json()["results"]]
        last_url, url = url, response.json()["next"]
    url = last_url
    while url:
        url = assert_same_bytes(client, user, url).json()["previous"]
    return seen


@pytest.fixture
def awkward_conversations(channel, operator, team):
    """Conversations with every field a list shows set in ways that test an encoder:
    escapes, emoji, names only in part, no team, equal times (cursor ties), no time."""
    resolver = UserFactory(username='res"olver', first_name="", last_name=" Ölsen ")
    nameless = UserFactory(username="nameless", first_name="", last_name="")
    other_team = TeamFactory(name=AWKWARD_TEXT)
    labels = [LabelFactory(name="b-label"), LabelFactory(name=AWKWARD_TEXT[:50])]
    policy = SlaPolicy.objects.create(name=AWKWARD_TEXT)
    conversations = []
    for index in range(7):
        conversation = ConversationFactory(
            channel=channel,
            customer=CustomerFactory(name=f"{AWKWARD_TEXT} {index}"),
            subject=AWKWARD_TEXT if index % 2 else "",
            priority=Priority.choices[index % len(Priority.choices)][0],
            status=ConversationStatus.choices[index % 4][0],
            assignee=[operator, nameless, None][index % 3],
            team=[team, other_team, None][index % 3],
            resolved_by=resolver if index % 2 else None,
            resolved_at=ON_THE_SECOND + timedelta(microseconds=index * 7),
            # Three share a time: the cursor pages through ties by offset.
            last_message_at=ON_THE_SECOND
            if index < 3
            else ON_THE_SECOND + timedelta(seconds=index, microseconds=123_456 * index),
            snoozed_until=ON_THE_SECOND if index == 4 else None,
            # Some under an SLA: due times with and without microseconds, breaches in
            # several combinations.
            sla_policy=policy if index % 3 else None,
            first_response_due_at=ON_THE_SECOND + timedelta(microseconds=index)
            if index % 2
            else None,
            next_response_due_at=ON_THE_SECOND if index == 5 else None,
            resolution_due_at=ON_THE_SECOND + timedelta(hours=index),
            first_response_breached=index in (2, 4),
            next_response_breached=index == 4,
            resolution_breached=index in (1, 4),
        )
        conversation.labels.add(*labels[: index % 3])
        conversations.append(conversation)
    return conversations


def test_the_detail_is_the_serializer_paths_bytes(operator_client, operator, awkward_conversations):
    for conversation in awkward_conversations:
        row = selectors.conversation_row_for_user(user=operator, conversation_id=conversation.pk)
        expected = JSONRenderer().render(conversation_row_representation(row))

        response = operator_client.get(f"/api/v1/conversations/{conversation.pk}/")

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.content == expected


@pytest.mark.parametrize("page_size", [1, 2, 3, 25])
def test_every_page_forwards_and_back_is_the_serializer_paths_bytes(
    operator_client, operator, awkward_conversations, page_size
):
    url = f"http://testserver/api/v1/conversations/?page_size={page_size}"

    seen = walk_forwards_and_back(operator_client, operator, url)

    assert sorted(seen) == sorted(c.pk for c in awkward_conversations)


@pytest.fixture
def awkward_customers(channel, awkward_conversations):
    customers = [conversation.customer for conversation in awkward_conversations]
    customers[0].attributes = {"zeta": [1, 2.5, None, True], "a": {"ü": AWKWARD_TEXT}, "n": 3}
    customers[0].email, customers[0].phone = "zoe@example.com", "+4917012345678"
    customers[0].language = "pl"
    customers[0].save()
    for index, customer in enumerate(customers[:4]):
        IdentityFactory(customer=customer, kind="telegram", value=f"{AWKWARD_TEXT}{index}")
        IdentityFactory(customer=customer, is_reachable=bool(index % 2))
        IdentityClaim.objects.create(customer=customer, kind="email", value=AWKWARD_TEXT)
    merged_away = CustomerFactory(name=f"{AWKWARD_TEXT} merged", merged_into=customers[1])
    ConversationFactory(channel=channel, customer=merged_away)
    return customers


@pytest.mark.parametrize("query", ["", "Zo", "zoe@example", "+4917012345678", "nobody"])
@pytest.mark.parametrize("page_size", [2, 25])
def test_customer_pages_are_the_serializer_paths_bytes(
    operator_client, supervisor_client, operator, supervisor, awkward_customers, query, page_size
):
    url = f"http://testserver/api/v1/customers/?page_size={page_size}&q={quote(query)}"

    seen_by_operator = walk_forwards_and_back(operator_client, operator, url)
    seen_by_supervisor = walk_forwards_and_back(supervisor_client, supervisor, url)

    if not query:
        assert sorted(seen_by_operator) == sorted(customer.pk for customer in awkward_customers)
    assert set(seen_by_operator) <= set(seen_by_supervisor)


@pytest.fixture
def awkward_thread(channel, operator, settings, tmp_path):
    """Messages of every kind a thread holds: in and out, a note, an author with only a
    username, an email with inline images (stored and remote) and attachments, content
    items worded in the reader's language."""
    settings.MEDIA_ROOT = tmp_path
    conversation = ConversationFactory(channel=channel)
    nameless = UserFactory(username="nameless", first_name="", last_name="")
    MessageFactory(conversation=conversation, body=AWKWARD_TEXT, external_id=None)
    MessageFactory(
        conversation=conversation,
        direction="out",
        author=operator,
        status="failed",
        error=AWKWARD_TEXT,
        sent_at=ON_THE_SECOND,
    )
    MessageFactory(conversation=conversation, is_private=True, author=nameless, body="note")
    email = MessageFactory(
        conversation=conversation,
        body="see the picture",
        body_full=f"see the picture\n> {AWKWARD_TEXT}",
        body_html="<p>Look: <img src=\"cid:logo@x\"> and <img src='cid:gone@x'></p>",
        edited_at=ON_THE_SECOND + timedelta(microseconds=5),
    )
    stored = email.attachments.create(
        filename=AWKWARD_TEXT, content_type="image/png", size=3, content_id="logo@x"
    )
    stored.file.save("logo.png", ContentFile(b"png"))
    email.attachments.create(
        filename="remote.pdf",
        content_type="application/pdf",
        remote_url="https://cdn.example.com/r",
    )
    MessageFactory(conversation=conversation, body_html="<b>no attachments</b>")
    MessageFactory(
        conversation=conversation,
        body="",
        content_items=[
            {"kind": "reaction", "data": {"emoji": AWKWARD_TEXT}},
            {"kind": "unsupported", "data": {"type": "poll"}},
            {"kind": "from_a_newer_version", "data": {}},
        ],
    )
    return conversation


@pytest.mark.parametrize("page_size", [1, 2, 25])
def test_message_pages_are_the_serializer_paths_bytes(
    operator_client, operator, awkward_thread, page_size
):
    url = f"http://testserver/api/v1/conversations/{awkward_thread.pk}/messages/?page_size={page_size}"

    seen = walk_forwards_and_back(operator_client, operator, url)

    assert seen == sorted(awkward_thread.messages.values_list("id", flat=True))


def test_the_messages_of_a_conversation_the_operator_may_not_see_are_not_found(operator_client):
    hidden = MessageFactory().conversation

    response = operator_client.get(f"/api/v1/conversations/{hidden.pk}/messages/")

    assert response.status_code == 404
    assert response.json()["detail"] == "No such conversation."


def test_an_operator_finds_no_customer_of_channels_their_teams_do_not_serve(
    operator_client, awkward_customers
):
    stranger = ConversationFactory(customer=CustomerFactory(name="Zoë elsewhere")).customer

    response = operator_client.get("/api/v1/customers/", {"q": "Zoë"})

    assert stranger.pk not in [row["id"] for row in response.json()["results"]]


def test_a_conversation_outside_the_operators_channels_is_not_found(operator_client):
    hidden = ConversationFactory()

    response = operator_client.get(f"/api/v1/conversations/{hidden.pk}/")

    assert response.status_code == 404
    assert hidden.pk not in [
        row["id"] for row in operator_client.get("/api/v1/conversations/").json()["results"]
    ]


@pytest.mark.parametrize(
    ("url", "position"),
    [
        ("/api/v1/conversations/", "not-a-time"),
        ("/api/v1/conversations/", "None"),
        ("/api/v1/conversations/", ""),
        ("/api/v1/conversations/", "2026-13-45 10:00:00"),
        ("/api/v1/customers/", "x1"),
        ("/api/v1/customers/", "١٢"),
        ("/api/v1/customers/", "99999999999999999999"),
    ],
)
def test_a_cursor_with_a_position_we_never_wrote_is_refused_not_a_server_error(
    operator_client, awkward_conversations, url, position
):
    import base64

    cursor = base64.b64encode(f"p={position}".encode()).decode()

    response = operator_client.get(url, {"cursor": cursor})

    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid cursor"


def test_the_page_takes_one_statement_after_the_token(operator_client, awkward_conversations):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        operator_client.get("/api/v1/conversations/")

    # The token, then the page with its operators and labels, in the operator's channels.
    assert len(captured) == 2


def test_content_items_are_worded_in_the_readers_language_on_both_paths(
    operator_client, operator, awkward_thread
):
    # A token client says its language with Accept-Language.
    operator_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ru"
    url = f"http://testserver/api/v1/conversations/{awkward_thread.pk}/messages/?page_size=25"

    with translation.override("ru"):
        response = assert_same_bytes(operator_client, operator, url)

    [items] = [row["content_items"] for row in response.json()["results"] if row["content_items"]]
    assert [item["text"] for item in items] == [
        f"Реакция {AWKWARD_TEXT}",
        "Сообщение этого типа здесь не отображается (poll)",
        "[from_a_newer_version]",
    ]
    assert items[1] == {"kind": "unsupported", "data": {"type": "poll"}, "text": items[1]["text"]}
