"""The operator web inbox, through Django's test client: who sees what, and at what cost."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import IdentityClaim
from inbox.models import Role
from inbox.web.selectors import InboxCursor, InboxView, inbox_conversation_page
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    MessageFactory,
    TeamFactory,
    UserFactory,
)
from tests.helpers import inbox_page_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_browser(client, operator):
    client.force_login(operator)
    return client


def page_data(response) -> dict:
    return inbox_page_data(response.content)


def listed_ids(response) -> list[int]:
    """The list's first page, which the page carries as data for its script to render."""
    return [item["id"] for item in page_data(response)["items"]]


@pytest.mark.parametrize("url", ["/", "/?conversation=1", "/inbox/list/", "/inbox/counts/"])
def test_every_inbox_page_requires_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_signing_in_opens_the_inbox_and_signing_out_returns_to_login(client, operator):
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content

    response = client.post("/login/", {"username": "anna", "password": "password123"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200

    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_shows_an_error_and_no_session(client, operator):
    response = client.post("/login/", {"username": "anna", "password": "nope"})

    assert response.status_code == 200
    assert b"didn't match" in response.content
    assert client.get("/").status_code == 302


def test_the_inbox_shows_only_conversations_of_the_operators_channels(operator_browser, channel):
    mine = ConversationFactory(channel=channel, customer=CustomerFactory(name="Maria Garcia"))
    MessageFactory(conversation=mine, body="Where is my parcel?")
    other_channel = ChannelFactory(teams=[TeamFactory(name="Billing")])
    hidden = ConversationFactory(
        channel=other_channel, customer=CustomerFactory(name="Olga Hidden")
    )
    MessageFactory(conversation=hidden, body="An invoice question")

    response = operator_browser.get("/")

    assert response.status_code == 200
    assert listed_ids(response) == [mine.pk]
    [item] = page_data(response)["items"]
    assert item["customer"]["name"] == "Maria Garcia"
    assert item["preview"] == "Where is my parcel?"
    assert b"Olga Hidden" not in response.content
    assert b"An invoice question" not in response.content
    # No conversation was chosen: the page's script opens the first of the list.
    assert page_data(response)["conversation_id"] is None
    # The channel filter offers only what the operator serves.
    assert other_channel.name.encode() not in response.content


def test_an_operator_of_another_team_gets_404_for_a_hidden_conversation(client, channel):
    hidden = ConversationFactory(channel=channel)
    outsider = UserFactory(username="olga", teams=[TeamFactory(name="Billing")])
    client.force_login(outsider)

    assert client.get(f"/?conversation={hidden.pk}").status_code == 404
    assert client.get(f"/inbox/conversations/{hidden.pk}/").status_code == 404
    assert client.get("/?conversation=not-a-number").status_code == 404


def test_a_supervisor_sees_every_channel(client, channel):
    first = ConversationFactory(channel=channel)
    second = ConversationFactory(channel=ChannelFactory(teams=[TeamFactory(name="Billing")]))
    client.force_login(UserFactory(username="sam", role=Role.SUPERVISOR))

    response = client.get("/")

    assert sorted(listed_ids(response)) == sorted([first.pk, second.pk])
    assert client.get(f"/?conversation={second.pk}").status_code == 200


def test_the_selected_conversation_shows_thread_notes_attachments_and_profile(
    operator_browser, operator, channel
):
    customer = CustomerFactory(
        name="Aiko Tanaka", email="aiko@example.jp", attributes={"plan": "Pro"}
    )
    IdentityFactory(customer=customer, kind="email", value="aiko@example.jp")
    IdentityClaim.objects.create(customer=customer, kind="email", value="aiko@typed.example")
    conversation = ConversationFactory(channel=channel, customer=customer)
    earlier = ConversationFactory(channel=channel, customer=customer, status="resolved")
    incoming = MessageFactory(conversation=conversation, body="The app crashes")
    incoming.attachments.create(
        filename="screen.png", content_type="image/png", remote_url="https://cdn.example.com/s.png"
    )
    incoming.attachments.create(
        filename="log.txt", content_type="text/plain", remote_url="https://cdn.example.com/log.txt"
    )
    MessageFactory(
        conversation=conversation, direction="out", author=operator, status="read", body="On it"
    )
    MessageFactory(
        conversation=conversation,
        direction="out",
        author=operator,
        status="failed",
        body="Second try",
        error={"code": "platform_unreachable", "platform": "", "detail": "ConnectError"},
    )
    MessageFactory(
        conversation=conversation,
        direction="out",
        author=operator,
        is_private=True,
        status="internal",
        body="Check the crash logs",
    )

    response = operator_browser.get(f"/?conversation={conversation.pk}")
    assert response.status_code == 200
    assert page_data(response)["conversation_id"] == conversation.pk
    assert b"is-conversation-open" in response.content
    # The page's script then opens it through its fragment.
    pane = operator_browser.get(f"/inbox/conversations/{conversation.pk}/").json()
    content = "".join(pane[part] for part in ("header_html", "thread_html", "profile_html"))

    assert 'class="message message-out message-note"' in content
    # A remote image is a plain link: opening the conversation loads nothing from the
    # customer's host.
    assert 'href="https://cdn.example.com/s.png"' in content
    assert '<img src="https://cdn.example.com' not in content
    assert 'href="https://cdn.example.com/log.txt"' in content
    assert 'aria-label="Read"' in content
    assert "The callback URL was unreachable. The platform said: ConnectError" in content
    assert 'data-retry="' in content
    assert "aiko@typed.example" in content and "unverified" in content
    assert "Pro" in content
    assert f'data-open-conversation="{earlier.pk}"' in content
    assert 'id="reply-body"' in response.content.decode()


def test_user_text_is_escaped_everywhere(operator_browser, channel):
    customer = CustomerFactory(name="<script>alert('name')</script>")
    conversation = ConversationFactory(channel=channel, customer=customer)
    message = MessageFactory(conversation=conversation, body="<img src=x onerror=alert(1)>")
    message.attachments.create(
        filename="<b>evil</b>.pdf", content_type="application/pdf", remote_url="javascript:alert(1)"
    )

    page = operator_browser.get("/")
    content = page.content.decode()

    assert "<script>alert(" not in content
    assert "<img src=x" not in content
    # The list's data is JSON inside the page, where "<" is escaped too.
    assert page_data(page)["items"][0]["preview"] == "<img src=x onerror=alert(1)>"
    pane = operator_browser.get(f"/inbox/conversations/{conversation.pk}/").json()
    pane_html = "".join(pane[part] for part in ("header_html", "thread_html", "profile_html"))
    assert "<script>alert(" not in pane_html
    assert "<img src=x" not in pane_html
    assert "<b>evil</b>" not in pane_html
    assert "javascript:" not in pane_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in pane["thread_html"]


def test_views_status_tabs_and_channel_filter(operator_browser, operator, channel, team):
    second_channel = ChannelFactory(teams=[team])
    other_team = TeamFactory(name="VIP")
    operator.teams.add(other_team)
    mine = ConversationFactory(channel=channel, assignee=operator, team=team)
    unassigned = ConversationFactory(channel=channel, team=other_team)
    colleague = ConversationFactory(channel=second_channel, assignee=UserFactory(teams=[team]))
    pending = ConversationFactory(channel=channel, status="pending")
    ConversationFactory(channel=channel, status="resolved")

    def ids(query: str) -> set[int]:
        return set(listed_ids(operator_browser.get(f"/?{query}")))

    assert ids("view=mine") == {mine.pk}
    assert ids("view=unassigned") == {unassigned.pk}
    assert ids("view=all") == {mine.pk, unassigned.pk, colleague.pk}
    assert ids(f"view=team-{other_team.pk}") == {unassigned.pk}
    assert ids("view=all&status=pending") == {pending.pk}
    assert ids(f"view=all&channel={second_channel.pk}") == {colleague.pk}
    # Anything unknown falls back to the defaults rather than failing.
    assert ids("view=team-99999&status=bogus&channel=x") == {mine.pk, unassigned.pk, colleague.pk}

    counts = operator_browser.get("/inbox/counts/?view=all&status=open").json()
    assert counts["statuses"] == {"open": 3, "pending": 1, "snoozed": 0}
    assert counts["views"] == {
        "mine": 1,
        "unassigned": 1,
        "all": 3,
        f"team-{team.pk}": 1,
        f"team-{other_team.pk}": 1,
        "breached": 0,
        "due_soon": 0,
    }
    # The page's script fetches the counts for the view it shows.
    response = operator_browser.get("/?view=mine")
    assert b'data-count-view="all"></span>' in response.content
    counts = operator_browser.get("/inbox/counts/?view=mine&status=open").json()
    assert counts["views"]["all"] == 3
    assert counts["statuses"] == {"open": 1, "pending": 0, "snoozed": 0}
    counts = operator_browser.get(f"/inbox/counts/?view=team-{other_team.pk}&status=pending").json()
    assert counts["statuses"] == {"open": 1, "pending": 0, "snoozed": 0}
    assert counts["views"] == {
        "mine": 0,
        "unassigned": 1,
        "all": 1,
        f"team-{team.pk}": 0,
        f"team-{other_team.pk}": 0,
        "breached": 0,
        "due_soon": 0,
    }


def test_the_list_shows_preview_waiting_time_and_assignee(operator_browser, operator, channel):
    customer = CustomerFactory(name="Jonas Weber")
    waiting = ConversationFactory(channel=channel, customer=customer)
    first = MessageFactory(conversation=waiting, body="Hello?")
    MessageFactory(conversation=waiting, body="Anyone there?")
    answered = ConversationFactory(channel=channel, assignee=operator)
    MessageFactory(conversation=answered, body="Question")
    MessageFactory(conversation=answered, direction="out", status="sent", body="Answer here")
    MessageFactory(conversation=answered, direction="out", status="internal", is_private=True)

    items = {item["id"]: item for item in page_data(operator_browser.get("/"))["items"]}

    assert items[waiting.pk]["preview"] == "Anyone there?"
    assert items[waiting.pk]["preview_direction"] == "in"
    assert items[waiting.pk]["waiting_since"] == first.created_at.isoformat().replace("+00:00", "Z")
    assert items[answered.pk]["preview"] == "Answer here"
    assert items[answered.pk]["preview_direction"] == "out"
    assert items[answered.pk]["waiting_since"] is None
    assert items[answered.pk]["assignee"]["id"] == operator.pk


def fill(channel, operator, count: int) -> None:
    colleague = UserFactory(teams=list(operator.teams.all()))
    for index in range(count):
        conversation = ConversationFactory(
            channel=channel, assignee=operator if index % 2 else colleague
        )
        MessageFactory(conversation=conversation)
        MessageFactory(conversation=conversation, direction="out", author=operator, status="sent")
        IdentityFactory(customer=conversation.customer)
        IdentityClaim.objects.create(
            customer=conversation.customer, kind="email", value=f"typed{index}@example.com"
        )


def query_count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SUPERVISOR])
def test_the_first_screen_costs_the_same_queries_for_3_or_60_conversations(
    client, operator, supervisor, channel, role
):
    client.force_login(operator if role == Role.OPERATOR else supervisor)
    selected = ConversationFactory(channel=channel, customer=CustomerFactory(name="Selected"))
    MessageFactory(conversation=selected)
    urls = ["/", f"/?conversation={selected.pk}", "/?view=mine&status=open", "/inbox/list/"]

    fill(channel, operator, 2)
    small = {url: query_count(client, url) for url in urls}

    fill(channel, operator, 58)
    for _ in range(5):
        # A longer thread and timeline for the selected conversation change nothing either.
        MessageFactory(conversation=selected).attachments.create(
            filename="a.png", content_type="image/png", remote_url="https://cdn.example.com/a.png"
        )
        ConversationFactory(channel=channel, customer=selected.customer, status="resolved")
    large = {url: query_count(client, url) for url in urls}

    assert large == small
    # The session and its user, the labels, teams and channels of the filters, the page,
    # its operators, labels and previews, the SLA policies' targets; an operator's
    # channels once; whether a chosen conversation may be seen; the counts, which the
    # page's script fetches apart, come with the list's first page when it fetches that
    # again. (Nothing is assigned to the supervisor: no operators, labels or previews to
    # read for "mine".)
    seen_channels = 1 if role == Role.OPERATOR else 0
    assert small == {
        "/": 10 + seen_channels,
        f"/?conversation={selected.pk}": 11 + seen_channels,
        "/?view=mine&status=open": (10 if role == Role.OPERATOR else 7) + seen_channels,
        "/inbox/list/": 9 + seen_channels,
    }


def test_the_conversation_pane_costs_the_same_queries_for_long_threads(
    operator_browser, operator, channel
):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation)
    url = f"/inbox/conversations/{conversation.pk}/"
    small = query_count(operator_browser, url)

    for _ in range(30):
        MessageFactory(conversation=conversation, direction="out", author=operator, status="sent")
        ConversationFactory(channel=channel, customer=conversation.customer)
    large = query_count(operator_browser, url)

    assert large == small


def test_load_more_pages_through_the_list_without_gaps_or_repeats(
    operator_browser, operator, channel
):
    now = timezone.now()
    expected = []
    for index in range(120):
        # Groups of equal times exercise the tie-break on id.
        conversation = ConversationFactory(
            channel=channel, last_message_at=now - timedelta(minutes=index // 7)
        )
        expected.append(conversation)
    expected.sort(key=lambda c: (c.last_message_at, c.pk), reverse=True)

    first = operator_browser.get("/")
    seen = listed_ids(first)
    cursor = re.search(rb'id="load-more" data-cursor="([^"]+)"', first.content).group(1).decode()
    while cursor:
        page = operator_browser.get("/inbox/list/", {"after": cursor}).json()
        assert "counts" not in page
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]

    assert seen == [c.pk for c in expected]
    assert len(listed_ids(first)) == 25


def test_pages_continue_across_conversations_without_a_last_message_time(operator, channel):
    with_time = [ConversationFactory(channel=channel) for _ in range(3)]
    without_time = [ConversationFactory(channel=channel, last_message_at=None) for _ in range(3)]
    view = InboxView()

    seen, cursor = [], None
    while True:
        page = inbox_conversation_page(user=operator, view=view, after=cursor, limit=2)
        seen += [row["id"] for row in page.rows]
        if page.next_cursor is None:
            break
        cursor = InboxCursor.decode(page.next_cursor.encode())

    assert sorted(seen) == sorted(c.pk for c in with_time + without_time)
    assert len(seen) == len(set(seen))


def test_a_broken_cursor_means_the_first_page(operator_browser, channel):
    conversation = ConversationFactory(channel=channel)

    page = operator_browser.get("/inbox/list/", {"after": "garbage~x"}).json()

    assert [item["id"] for item in page["items"]] == [conversation.pk]
    assert page["counts"]["statuses"]["open"] == 1


def test_the_conversation_pane_renders_header_thread_and_profile(
    operator_browser, operator, channel
):
    conversation = ConversationFactory(channel=channel, assignee=operator, priority="high")
    MessageFactory(conversation=conversation, body="Hi there")

    pane = operator_browser.get(f"/inbox/conversations/{conversation.pk}/").json()

    assert pane["conversation"]["id"] == conversation.pk
    assert 'data-assigned="me"' in pane["header_html"]
    assert '<option value="high" selected>' in pane["header_html"]
    assert "Hi there" in pane["thread_html"]
    assert conversation.customer.name in pane["profile_html"]


def test_the_page_sets_the_csrf_cookie_the_scripts_send_back(operator_browser, channel):
    response = operator_browser.get("/")

    assert "csrftoken" in response.cookies
