"""The admin API of automation rules: create, change, switch, reorder, read the run log,
try a rule on past conversations; bad input answers 400 with a JSON error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automation.api.views import RuleOutputSerializer, RunOutputSerializer, TryOutputSerializer
from automation.models import AutomationRule
from inbox import services
from inbox.models import Message, MessageDirection
from inbox.rule_events import Trigger
from tests.automation.helpers import inbound, rule_on, run_queued
from tests.conftest import client_for
from tests.factories import ConversationFactory, CustomerFactory, MessageFactory
from tests.inbox.test_api_shapes import assert_fits, documented_shape

pytestmark = pytest.mark.django_db

RULES = "/api/v1/automation-rules/"
A_RULE = {
    "name": "Refunds to billing",
    "trigger": "message_created",
    "conditions": {"text_contains": ["refund"]},
    "actions": [{"type": "set_priority", "priority": "high"}],
    "is_active": True,
}


@pytest.fixture
def admin(admin_user):
    return client_for(admin_user)


def test_an_admin_creates_and_reads_a_rule_as_documented(admin):
    created = admin.post(RULES, A_RULE, format="json")

    assert created.status_code == 201, created.json()
    listed = admin.get(RULES).json()
    assert [rule["name"] for rule in listed] == ["Refunds to billing"]
    assert_fits(documented_shape(RuleOutputSerializer()), listed[0])


def test_operators_and_supervisors_may_not_touch_rules(operator, supervisor):
    for user in (operator, supervisor):
        assert client_for(user).get(RULES).status_code == 403
        assert client_for(user).post(RULES, A_RULE, format="json").status_code == 403
    assert not AutomationRule.objects.exists()


def test_switching_off_and_on_and_reordering(admin):
    first = admin.post(RULES, A_RULE, format="json").json()
    second = admin.post(RULES, {**A_RULE, "name": "Second"}, format="json").json()

    off = admin.patch(f"{RULES}{first['id']}/", {"is_active": False}, format="json")
    order = admin.post(f"{RULES}order/", {"order": [second["id"], first["id"]]}, format="json")

    assert off.json()["is_active"] is False
    assert [rule["name"] for rule in order.json()] == ["Second", "Refunds to billing"]
    assert [rule["name"] for rule in admin.get(RULES).json()] == ["Second", "Refunds to billing"]


def test_a_switched_off_rule_does_not_run(admin, channel):
    created = admin.post(RULES, A_RULE, format="json").json()
    admin.patch(f"{RULES}{created['id']}/", {"is_active": False}, format="json")

    outcome = services.message_receive(channel=channel, inbound=inbound("m-1", "refund now"))
    run_queued()

    outcome.conversation.refresh_from_db()
    assert outcome.conversation.priority == "none"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"trigger": "whenever"}, "trigger"),
        ({"actions": []}, "actions"),
        ({"actions": [{"type": "explode"}]}, "type"),
        ({"actions": [{"type": "assign_operator"}]}, "operator"),
        ({"conditions": {"text_regex": "(unclosed"}}, "regular expression"),
        ({"conditions": {"channels": ["one"]}}, "channels"),
        ({"conditions": {"mood": "happy"}}, "mood"),
        ({"conditions": []}, "conditions"),
        ({"trigger": "no_customer_reply"}, "wait_minutes"),
        ({"wait_minutes": 0, "trigger": "no_customer_reply"}, "wait_minutes"),
    ],
)
def test_bad_rules_answer_400_saying_why_and_store_nothing(admin, change, complaint):
    answer = admin.post(RULES, {**A_RULE, **change}, format="json")

    assert answer.status_code == 400
    assert complaint in str(answer.json())
    assert not AutomationRule.objects.exists()


@settings(
    max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    body=st.dictionaries(
        st.sampled_from(["name", "trigger", "conditions", "actions", "wait_minutes", "position"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=6,
        ),
    )
)
def test_no_body_answers_500(admin, body):
    answer = admin.post(RULES, body, format="json")

    assert answer.status_code in (201, 400)


def test_the_run_log_says_what_each_match_did(admin, channel):
    created = admin.post(RULES, A_RULE, format="json").json()
    services.message_receive(channel=channel, inbound=inbound("m-1", "a refund please"))
    services.message_receive(channel=channel, inbound=inbound("m-2", "thanks", sender="u-2"))
    run_queued()

    runs = admin.get(f"{RULES}{created['id']}/runs/").json()

    assert len(runs) == 1
    assert runs[0]["outcomes"] == [{"type": "set_priority", "done": "priority high"}]
    assert_fits(documented_shape(RunOutputSerializer()), runs[0])


def test_trying_a_rule_counts_the_past_conversations_it_would_have_matched(admin, channel):
    rule = rule_on(Trigger.MESSAGE_CREATED, [{"type": "resolve"}], {"text_contains": ["refund"]})
    for number in range(10):
        conversation = ConversationFactory(channel=channel, customer=CustomerFactory())
        MessageFactory(
            conversation=conversation,
            body="I want a refund" if number % 3 == 0 else "hello",
            direction=MessageDirection.INBOUND,
        )
    before = Message.objects.count()

    everything = admin.post(f"{RULES}{rule.pk}/try/", {}, format="json").json()
    latest = admin.post(f"{RULES}{rule.pk}/try/", {"limit": 5}, format="json").json()

    assert (everything["examined"], everything["matched"]) == (10, 4)
    assert (latest["examined"], latest["matched"]) == (5, 2)
    assert_fits(documented_shape(TryOutputSerializer()), everything)
    # Nothing done: no conversation resolved, nothing written.
    assert Message.objects.count() == before
    assert not rule.runs.exists()


def test_trying_with_a_bad_limit_answers_400(admin):
    rule = rule_on(Trigger.MESSAGE_CREATED, [{"type": "resolve"}])

    assert admin.post(f"{RULES}{rule.pk}/try/", {"limit": 0}, format="json").status_code == 400
    assert admin.post(f"{RULES}{rule.pk}/try/", {"limit": "x"}, format="json").status_code == 400


def test_the_schema_documents_the_endpoints(admin):
    schema = admin.get("/api/v1/schema/?format=json").json()

    for path in (
        "/api/v1/automation-rules/",
        "/api/v1/automation-rules/{rule_id}/",
        "/api/v1/automation-rules/{rule_id}/runs/",
        "/api/v1/automation-rules/{rule_id}/try/",
        "/api/v1/automation-rules/order/",
    ):
        assert path in schema["paths"]
