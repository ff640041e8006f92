"""Who may see a conversation: one rule (inbox.visibility), and every reading of it agrees.

Given a channel served by the support team, one served by the sales team and one served
by no team, with conversations filed under either team or none, assigned or not: each
kind of user sees exactly what the rule says, whether asked about one conversation, for
a list (a queryset) or in SQL (the pages PostgreSQL writes), and may be given exactly
those conversations.
"""

import pytest
from django.db import connection

from customers.plain_sql import quoted_column, quoted_table
from inbox import services, visibility
from inbox.models import Conversation, Role, User
from tests.factories import ChannelFactory, ConversationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    support, sales = TeamFactory(name="Support"), TeamFactory(name="Sales")
    support_channel = ChannelFactory(teams=[support])
    sales_channel = ChannelFactory(teams=[sales])
    unserved_channel = ChannelFactory()
    users = {
        "admin": UserFactory(role=Role.ADMIN),
        "superuser": UserFactory(is_superuser=True),
        "supervisor": UserFactory(role=Role.SUPERVISOR),
        "operator of the serving team": UserFactory(teams=[support]),
        "operator of another team": UserFactory(teams=[sales]),
        "operator of both teams": UserFactory(teams=[support, sales]),
        "operator in no team": UserFactory(),
    }
    conversations = {
        "support, unassigned": ConversationFactory(channel=support_channel),
        "support, filed under sales": ConversationFactory(channel=support_channel, team=sales),
        "support, assigned": ConversationFactory(
            channel=support_channel, team=support, assignee=users["operator of the serving team"]
        ),
        "sales, unassigned": ConversationFactory(channel=sales_channel),
        "no team's channel": ConversationFactory(channel=unserved_channel),
    }
    return users, conversations


SEES_EVERYTHING = {
    "support, unassigned",
    "support, filed under sales",
    "support, assigned",
    "sales, unassigned",
    "no team's channel",
}
EXPECTED = {
    "admin": SEES_EVERYTHING,
    "superuser": SEES_EVERYTHING,
    "supervisor": SEES_EVERYTHING,
    # The channel decides, not the team a conversation is filed under or its assignee.
    "operator of the serving team": {
        "support, unassigned",
        "support, filed under sales",
        "support, assigned",
    },
    "operator of another team": {"sales, unassigned"},
    "operator of both teams": SEES_EVERYTHING - {"no team's channel"},
    "operator in no team": set(),
}


def _visible_in_sql(user) -> set[int]:
    conversation_id = quoted_column(Conversation, "id")
    sql = f"SELECT c.{conversation_id} FROM {quoted_table(Conversation)} c"
    params: list = []
    operator_id = visibility.bounding_operator_id(user)
    if operator_id is not None:
        condition, operator = visibility.sql_visible_condition(
            operator_id, f"c.{quoted_column(Conversation, 'channel')}"
        )
        sql, params = f"{sql} WHERE {condition}", [operator]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("role", EXPECTED)
def test_every_reading_of_the_rule_agrees_for_each_role(world, role):
    users, conversations = world
    user = users[role]
    expected = {conversations[name].pk for name in EXPECTED[role]}

    one_by_one = {
        conversation.pk
        for conversation in conversations.values()
        if visibility.conversation_is_visible(user=user, channel_id=conversation.channel_id)
    }
    as_queryset = set(
        visibility.only_visible(Conversation.objects.all(), user).values_list("pk", flat=True)
    )
    scoped = visibility.request_scoped(UserFactory.build(pk=user.pk, role=user.role))
    scoped.is_superuser = user.is_superuser
    as_queryset_in_a_request = set(
        visibility.only_visible(Conversation.objects.all(), scoped).values_list("pk", flat=True)
    )
    may_be_given = {
        conversation.pk
        for conversation in conversations.values()
        if services.operator_can_serve(user, conversation)
    }

    among_users = {
        conversation.pk
        for conversation in conversations.values()
        if visibility.users_who_see(
            User.objects.filter(pk=user.pk), channel_id=conversation.channel_id
        ).exists()
    }

    assert one_by_one == expected
    assert among_users == expected
    assert as_queryset == expected
    assert as_queryset_in_a_request == expected
    assert _visible_in_sql(user) == expected
    assert may_be_given == expected
