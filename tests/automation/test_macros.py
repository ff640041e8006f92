"""Macros: every operator keeps their own, supervisors share them; applying one to a
conversation does its actions as that operator, in order, each reported; bad input
answers 400 with a JSON error and changes nothing."""

import pytest

from automation.api.macro_views import ApplyOutputSerializer, MacroOutputSerializer
from automation.models import Macro
from inbox import services
from inbox.models import ConversationEvent, ConversationStatus, Message, Notification, Team
from tests.automation.helpers import inbound, rule_on, run_queued
from tests.conftest import client_for
from tests.factories import CannedResponseFactory, ChannelFactory, LabelFactory, UserFactory
from tests.inbox.test_api_shapes import assert_fits, documented_shape
from tests.inbox.test_auto_assign import _forget_presence_and_turns, set_online  # noqa: F401

pytestmark = pytest.mark.django_db

MACROS = "/api/v1/macros/"


def escalate_actions(team: Team, operator) -> list[dict]:
    urgent = LabelFactory(name="urgent")
    sorry = CannedResponseFactory(
        shortcut="sorry", body="Sorry for the wait, {{customer.first_name}}. {{operator.name}}"
    )
    return [
        {"type": "add_labels", "labels": [urgent.pk]},
        {"type": "set_priority", "priority": "high"},
        {"type": "send_canned_reply", "canned_response": sorry.pk},
        {"type": "add_note", "body": "Escalated to the second line"},
        {"type": "assign_team", "team": team.pk},
        {"type": "assign_operator", "operator": operator.pk},
        {"type": "snooze", "minutes": 60},
    ]


def test_an_operator_applies_a_macro_as_themselves(channel, operator, team):
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    anna = client_for(operator)
    macro = anna.post(
        MACROS, {"name": "Escalate", "actions": escalate_actions(team, operator)}, format="json"
    ).json()

    applied = anna.post(f"{MACROS}{macro['id']}/apply/", {"conversation": conversation.pk})

    assert applied.status_code == 200, applied.json()
    body = applied.json()
    assert set(body) == set(ApplyOutputSerializer().fields)
    assert [outcome.get("ok") for outcome in body["actions"]] == [True] * 7
    assert body["conversation"]["status"] == "snoozed"
    assert body["conversation"]["priority"] == "high"
    assert [label["name"] for label in body["conversation"]["labels"]] == ["urgent"]
    reply, note = Message.objects.filter(conversation=conversation, direction="out").order_by("pk")
    assert (reply.body, reply.author, reply.is_private) == (
        "Sorry for the wait, Maria. Anna",
        operator,
        False,
    )
    assert (note.body, note.author, note.is_private) == (
        "Escalated to the second line",
        operator,
        True,
    )
    # The thread names the operator for each change, as when done by hand.
    actors = set(
        ConversationEvent.objects.filter(conversation=conversation).values_list("actor", flat=True)
    )
    assert actors == {operator.pk}


def test_an_action_that_does_not_fit_is_reported_and_the_others_still_run(channel, operator):
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    services.conversation_resolve(conversation=conversation, resolved_by=operator)
    gone = Team.objects.create(name="Disbanded")
    macro = Macro.objects.create(
        name="Close again",
        owner=operator,
        actions=[
            {"type": "resolve"},
            {"type": "assign_team", "team": gone.pk},
            {"type": "add_note", "body": "Checked"},
        ],
    )
    gone.delete()

    answer = client_for(operator).post(
        f"{MACROS}{macro.pk}/apply/", {"conversation": conversation.pk}, HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()

    resolve, team, note = body["actions"]
    assert resolve["type"] == "resolve" and "уже" in resolve["error"]  # already resolved
    assert team == {"type": "assign_team", "error": "объект этого действия удалён"}
    assert note == {"type": "add_note", "ok": True}
    assert Message.objects.filter(conversation=conversation, body="Checked").exists()


def test_personal_macros_are_their_owners_and_shared_ones_are_changed_by_supervisors(
    operator, supervisor
):
    anna, sam = client_for(operator), client_for(supervisor)
    actions = [{"type": "set_priority", "priority": "low"}]
    personal = anna.post(MACROS, {"name": "Mine", "actions": actions}, format="json").json()
    shared = sam.post(
        MACROS, {"name": "Team's", "actions": actions, "is_shared": True}, format="json"
    ).json()
    other = UserFactory(username="olga")

    assert [macro["name"] for macro in anna.get(MACROS).json()] == ["Mine", "Team's"]
    assert [macro["name"] for macro in client_for(other).get(MACROS).json()] == ["Team's"]
    assert_fits(documented_shape(MacroOutputSerializer()), anna.get(MACROS).json()[0])
    assert client_for(other).get(f"{MACROS}{personal['id']}/").status_code == 404
    assert anna.patch(f"{MACROS}{shared['id']}/", {"name": "Hijacked"}).status_code == 403
    assert anna.delete(f"{MACROS}{shared['id']}/").status_code == 403
    refused = anna.post(MACROS, {"name": "x", "actions": actions, "is_shared": True}, format="json")
    assert refused.status_code == 403 and refused.json()["detail"]
    assert sam.patch(f"{MACROS}{shared['id']}/", {"name": "Team macro"}).status_code == 200
    assert anna.delete(f"{MACROS}{personal['id']}/").status_code == 204
    assert list(Macro.objects.values_list("name", flat=True)) == ["Team macro"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "No actions", "actions": []},
        {"name": "Bad type", "actions": [{"type": "explode"}]},
        {"name": "Bad priority", "actions": [{"type": "set_priority", "priority": "max"}]},
        {"name": "", "actions": [{"type": "resolve"}]},
        {"actions": [{"type": "resolve"}]},
        # Past the year 9999 a snooze cannot be applied at all (it was a 500).
        {"name": "Forever", "actions": [{"type": "snooze", "minutes": 10**10}]},
    ],
)
def test_a_malformed_macro_is_refused_with_a_json_error(operator, body):
    answer = client_for(operator).post(MACROS, body, format="json")

    assert answer.status_code == 400
    assert answer.json()
    assert not Macro.objects.exists()


def test_a_macro_applies_only_to_a_conversation_the_operator_may_see(operator):
    hidden = services.message_receive(
        channel=ChannelFactory(), inbound=inbound("m-1")
    ).conversation  # a channel of no team of Anna's
    macro = Macro.objects.create(name="Close", owner=operator, actions=[{"type": "resolve"}])
    anna = client_for(operator)

    assert anna.post(f"{MACROS}{macro.pk}/apply/", {"conversation": hidden.pk}).status_code == 404
    assert anna.post(f"{MACROS}{macro.pk}/apply/", {"conversation": "x"}).status_code == 400
    hidden.refresh_from_db()
    assert hidden.status == ConversationStatus.OPEN


def test_a_macros_turn_based_assignment_is_the_operators_too(channel, operator, team):
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    set_online(operator)  # the team's one member online: the turn is Anna's
    macro = Macro.objects.create(
        name="Take", owner=operator, actions=[{"type": "assign_round_robin", "team": team.pk}]
    )

    applied = client_for(operator).post(
        f"{MACROS}{macro.pk}/apply/", {"conversation": conversation.pk}
    )

    assert applied.json()["conversation"]["assignee"]["id"] == operator.pk
    assigned = ConversationEvent.objects.get(conversation=conversation, kind="assigned")
    assert assigned.actor == operator
    # She gave it to herself: nothing to tell her.
    assert not Notification.objects.filter(recipient=operator).exists()


def test_a_turn_based_assignment_that_finds_nobody_online_is_reported(channel, operator, team):
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    macro = Macro.objects.create(
        name="Take", owner=operator, actions=[{"type": "assign_round_robin", "team": team.pk}]
    )

    applied = client_for(operator).post(
        f"{MACROS}{macro.pk}/apply/", {"conversation": conversation.pk}
    )

    (outcome,) = applied.json()["actions"]
    assert outcome["type"] == "assign_round_robin"
    assert "nobody in the team is online" in outcome["error"]
    assert applied.json()["conversation"]["assignee"] is None


def test_a_macro_never_sends_a_colleagues_personal_canned_reply(channel, operator):
    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    olga = UserFactory(username="olga")
    private = CannedResponseFactory(
        shortcut="mine", body="Olga's own words", is_shared=False, created_by=olga
    )
    anna = client_for(operator)
    macro = anna.post(
        MACROS,
        {"name": "Peek", "actions": [{"type": "send_canned_reply", "canned_response": private.pk}]},
        format="json",
    ).json()

    applied = anna.post(f"{MACROS}{macro['id']}/apply/", {"conversation": conversation.pk})

    assert applied.status_code == 200
    assert applied.json()["actions"][0]["error"]
    assert not Message.objects.filter(conversation=conversation, body="Olga's own words").exists()


def test_a_rules_canned_reply_fills_in_the_customers_name(channel):
    thanks = CannedResponseFactory(shortcut="thanks", body="Thank you, {{customer.first_name}}!")
    rule_on("conversation_created", [{"type": "send_canned_reply", "canned_response": thanks.pk}])

    conversation = services.message_receive(channel=channel, inbound=inbound("m-1")).conversation
    run_queued()

    (reply,) = Message.objects.filter(conversation=conversation, direction="out")
    assert reply.body == "Thank you, Maria!"


def test_a_macro_posted_as_a_form_is_answered_with_a_json_error(operator):
    # A form leaves an unticked checkbox out, which the serializer reads as false: that
    # field is not in the request's data (it once answered 500).
    answer = client_for(operator).post(
        MACROS, {"name": "Form", "actions": '[{"type": "resolve"}]'}, format="multipart"
    )

    assert answer.status_code == 400  # actions must be JSON, not a string of it
    assert answer.json()
    answer = client_for(operator).post(MACROS, {"name": "Form"}, format="multipart")
    assert answer.status_code == 400 and answer.json()
