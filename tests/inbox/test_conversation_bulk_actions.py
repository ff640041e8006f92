"""Bulk actions: one call, each conversation checked and changed through its single
action's service, each reported on its own."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox import services
from inbox.models import (
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    ConversationStatus,
    SlaPolicy,
)
from inbox.sla.policies import policies_forget_cached
from tests.conftest import client_for
from tests.factories import ChannelFactory, ConversationFactory, LabelFactory, UserFactory

pytestmark = pytest.mark.django_db

BULK = "/api/v1/conversations/bulk/"


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


def results_by_id(response) -> dict[int, dict]:
    assert response.status_code == 200, response.json()
    return {result["id"]: result for result in response.json()["results"]}


def test_resolving_several_reports_each_and_changes_only_what_the_operator_may_see(
    operator_client, channel
):
    first, second = ConversationFactory(channel=channel), ConversationFactory(channel=channel)
    already = ConversationFactory(channel=channel, status=ConversationStatus.RESOLVED)
    elsewhere = ConversationFactory(channel=ChannelFactory())

    response = operator_client.post(
        BULK,
        {"ids": [first.pk, elsewhere.pk, second.pk, already.pk], "action": "resolve"},
        format="json",
    )

    assert response.json()["results"] == [
        {"id": first.pk, "ok": True, "error": None},
        {"id": elsewhere.pk, "ok": False, "error": "No such conversation."},
        {"id": second.pk, "ok": True, "error": None},
        {"id": already.pk, "ok": False, "error": "the conversation is already resolved"},
    ]
    assert fresh(first).status == fresh(second).status == ConversationStatus.RESOLVED
    assert fresh(elsewhere).status == ConversationStatus.OPEN  # nothing changed where unseen
    assert not ConversationEvent.objects.filter(conversation=elsewhere).exists()


def test_each_conversation_changed_gets_its_event_and_its_live_update(
    operator, channel, django_capture_on_commit_callbacks
):
    conversations = [ConversationFactory(channel=channel) for _ in range(3)]

    with (
        mock.patch("inbox.realtime._send_now") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client_for(operator).post(
            BULK, {"ids": [c.pk for c in conversations], "action": "resolve"}, format="json"
        )

    updated = [
        call.args[1]["conversation"]["id"]
        for call in send.call_args_list
        if call.args[1]["type"] == "conversation.updated"
    ]
    assert sorted(set(updated)) == sorted(c.pk for c in conversations)
    for conversation in conversations:
        event = ConversationEvent.objects.get(
            conversation=conversation, kind=ConversationEventKind.RESOLVED
        )
        assert event.actor == operator


def test_snoozing_several_pauses_their_sla_clocks_as_one_snooze_does(operator_client, channel):
    SlaPolicy.objects.create(name="Standard", first_response_minutes=60, resolution_minutes=480)
    policies_forget_cached()
    alone, together = (
        services.message_receive(channel=channel, inbound=_inbound(f"m-{n}", f"c-{n}")).conversation
        for n in range(2)
    )
    until = (timezone.now() + timedelta(hours=2)).isoformat()

    operator_client.post(
        f"/api/v1/conversations/{alone.pk}/snooze/", {"until": until}, format="json"
    )
    response = operator_client.post(
        BULK, {"ids": [together.pk], "action": "snooze", "until": until}, format="json"
    )

    assert results_by_id(response)[together.pk]["ok"]
    assert fresh(together).status == ConversationStatus.SNOOZED
    assert fresh(together).sla_policy_id is not None
    assert fresh(alone).sla_paused_at is not None
    assert fresh(together).sla_paused_at is not None


def _inbound(message_id: str, sender: str):
    from channels_app.contracts import InboundIdentity, InboundMessage

    return InboundMessage(
        external_id=message_id,
        recipient_address=sender,
        identities=(InboundIdentity(kind="api", value=sender),),
        text="Hello?",
    )


def test_assigning_several_refuses_those_the_operator_cannot_serve(supervisor, operator, channel):
    served = ConversationFactory(channel=channel)
    not_served = ConversationFactory(channel=ChannelFactory())

    response = client_for(supervisor).post(
        BULK,
        {"ids": [served.pk, not_served.pk], "action": "assign", "operator": operator.pk},
        format="json",
    )

    results = results_by_id(response)
    assert results[served.pk]["ok"] and fresh(served).assignee == operator
    assert results[not_served.pk] == {
        "id": not_served.pk,
        "ok": False,
        "error": "that operator's teams do not serve this channel",
    }
    assert fresh(not_served).assignee is None


def test_labelling_adds_and_unlabelling_removes_only_the_labels_given(operator_client, channel):
    refund, vip, urgent = (LabelFactory(name=name) for name in ("Refund", "VIP", "Urgent"))
    first, second = ConversationFactory(channel=channel), ConversationFactory(channel=channel)
    first.labels.set([vip])

    operator_client.post(
        BULK,
        {"ids": [first.pk, second.pk], "action": "label", "labels": [refund.pk, urgent.pk]},
        format="json",
    )
    assert set(first.labels.values_list("name", flat=True)) == {"Refund", "VIP", "Urgent"}
    assert set(second.labels.values_list("name", flat=True)) == {"Refund", "Urgent"}

    operator_client.post(
        BULK,
        {"ids": [first.pk, second.pk], "action": "unlabel", "labels": [urgent.pk]},
        format="json",
    )
    assert set(first.labels.values_list("name", flat=True)) == {"Refund", "VIP"}
    assert set(second.labels.values_list("name", flat=True)) == {"Refund"}


def test_reopening_several(operator_client, channel):
    resolved = ConversationFactory(channel=channel, status=ConversationStatus.RESOLVED)

    response = operator_client.post(BULK, {"ids": [resolved.pk], "action": "reopen"}, format="json")

    assert results_by_id(response)[resolved.pk]["ok"]
    assert fresh(resolved).status == ConversationStatus.OPEN


def test_a_filter_acts_on_every_conversation_the_list_shows_with_it(operator_client, channel):
    other_channel = ChannelFactory(teams=list(channel.teams.all()))
    in_view = [ConversationFactory(channel=channel) for _ in range(3)]
    other_status = ConversationFactory(channel=channel, status=ConversationStatus.PENDING)
    other_view = ConversationFactory(channel=other_channel)

    response = operator_client.post(
        BULK,
        {"filter": {"status": "open", "channel": channel.pk}, "action": "resolve"},
        format="json",
    )

    assert set(results_by_id(response)) == {c.pk for c in in_view}
    assert fresh(other_status).status == ConversationStatus.PENDING
    assert fresh(other_view).status == ConversationStatus.OPEN


def test_a_filter_matching_more_than_a_call_may_change_is_refused_and_changes_nothing(
    operator_client, channel, monkeypatch
):
    monkeypatch.setattr(services, "BULK_ACTION_MAX_CONVERSATIONS", 2)
    conversations = [ConversationFactory(channel=channel) for _ in range(3)]

    response = operator_client.post(
        BULK, {"filter": {"status": "open"}, "action": "resolve"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "narrow the filter" in response.json()["detail"]
    assert all(fresh(c).status == ConversationStatus.OPEN for c in conversations)


@pytest.mark.parametrize(
    "body",
    [
        {"action": "resolve"},
        {"ids": [1], "filter": {}, "action": "resolve"},
        {"ids": [1], "action": "explode"},
        {"ids": [], "action": "resolve"},
        {"ids": ["x"], "action": "resolve"},
        {"ids": list(range(1, services.BULK_ACTION_MAX_CONVERSATIONS + 2)), "action": "resolve"},
        {"ids": [1], "action": "snooze"},
        {"ids": [1], "action": "snooze", "until": "tomorrow"},
        {"ids": [1], "action": "assign"},
        {"ids": [1], "action": "assign", "operator": 999_999},
        {"ids": [1], "action": "label"},
        {"ids": [1], "action": "label", "labels": [999_999]},
        {"filter": {"status": "asleep"}, "action": "resolve"},
        {"filter": "open", "action": "resolve"},
        [1, 2],
    ],
)
def test_bad_input_is_a_400_with_a_json_error(operator_client, channel, body):
    conversation = ConversationFactory(channel=channel)

    response = operator_client.post(BULK, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert fresh(conversation).status == ConversationStatus.OPEN


def test_a_wrong_filter_is_named_in_the_error(operator_client):
    response = operator_client.post(
        BULK, {"filter": {"status": "asleep"}, "action": "resolve"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("status: ")
    assert response.json()["fields"]["filter"] == [response.json()["detail"]]


def test_a_snooze_in_the_past_is_refused_for_each(operator_client, channel):
    conversation = ConversationFactory(channel=channel)
    past = (timezone.now() - timedelta(hours=1)).isoformat()

    response = operator_client.post(
        BULK, {"ids": [conversation.pk], "action": "snooze", "until": past}, format="json"
    )

    assert results_by_id(response)[conversation.pk] == {
        "id": conversation.pk,
        "ok": False,
        "error": "snooze until a time in the future",
    }


def test_reading_the_conversations_costs_the_same_for_any_number(operator, channel):
    """What a call reads before acting (the operator, the conversations, their labels) is
    a fixed number of queries; each conversation then costs its own action's writes."""
    label = LabelFactory(name="Refund")

    def queries_to_label(count: int) -> int:
        ids = [ConversationFactory(channel=channel).pk for _ in range(count)]
        client = client_for(operator)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                BULK, {"ids": ids, "action": "label", "labels": [label.pk]}, format="json"
            )
        assert all(result["ok"] for result in response.json()["results"])
        return len(captured)

    queries_to_label(1)  # what each process reads once every few seconds is read now
    one, eleven = queries_to_label(1), queries_to_label(11)

    per_conversation = (eleven - one) / 10
    # A label change as the single action makes it (its savepoint, the labels set and
    # read back, the conversation saved, its event stored) and the call's own savepoint
    # around it; the operator, their access, the labels and the conversations are read
    # once per call.
    assert per_conversation <= 9
    assert one - per_conversation <= 5


def test_operators_of_other_teams_cannot_act_through_bulk(channel):
    outsider = UserFactory(username="olga")
    conversation = ConversationFactory(channel=channel)

    response = client_for(outsider).post(
        BULK, {"ids": [conversation.pk], "action": "resolve"}, format="json"
    )

    assert results_by_id(response)[conversation.pk]["ok"] is False
    assert fresh(conversation).status == ConversationStatus.OPEN


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    values=st.fixed_dictionaries(
        {"action": st.sampled_from([*services.BULK_ACTIONS, "explode"]) | json_values},
        optional={
            "ids": json_values,
            "filter": json_values,
            "operator": json_values,
            "team": json_values,
            "labels": json_values,
            "until": json_values,
        },
    )
)
def test_whatever_an_operator_sends_is_never_a_server_error(operator_client, values):
    response = operator_client.post(BULK, values, format="json")

    assert response.status_code in (200, 400)
