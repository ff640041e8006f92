"""One JSON shape per object: what the OpenAPI schema documents (the output serializers)
has the field names and nesting of what inbox.representations writes, for every object
both describe, and of what the API answers (on PostgreSQL, JSON the database writes). A
field added to a representation and not to its serializer (or the other way round) fails
here."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from customers.models import IdentityClaim
from inbox import selectors
from inbox.api import customer_serializers as cs
from inbox.api import report_views
from inbox.api import serializers as s
from inbox.events import conversation_event_record
from inbox.models import (
    Attachment,
    ConversationEventKind,
    CsatSurvey,
    Role,
    SlaPolicy,
    SurveyStatus,
)
from inbox.representations import (
    attachment_representation,
    conversation_event_representation,
    conversation_representation,
    customer_representation,
    customer_row_representation,
    label_representation,
    message_representation,
    operator_representation,
)
from inbox.selectors.customer_health import customer_health
from tests.conftest import client_for
from tests.factories import (
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    LabelFactory,
    MessageFactory,
    UserFactory,
)
from tests.inbox.test_csat import seed_not_sent

pytestmark = pytest.mark.django_db

# A field the serializer leaves open (a dict, a JSON value, a scalar): any value fits.
VALUE = "value"


def documented_shape(field):
    """The names and nesting an output serializer documents: a dict for an object, a
    one-item list for an array of objects, VALUE for anything else."""
    if isinstance(field, serializers.ListSerializer):
        return [documented_shape(field.child)]
    if isinstance(field, serializers.BaseSerializer):
        return {
            name: documented_shape(child)
            for name, child in field.fields.items()
            if not child.write_only
        }
    return VALUE


def assert_fits(shape, value, path="$"):
    if shape == VALUE:
        return
    if isinstance(shape, list):
        assert isinstance(value, list) and value, f"{path}: give the example a non-empty list"
        for index, item in enumerate(value):
            assert_fits(shape[0], item, f"{path}[{index}]")
        return
    assert isinstance(value, dict), f"{path}: documented as an object, written as {value!r}"
    assert list(value) == list(shape), f"{path}: fields written ≠ fields documented"
    for name, child in shape.items():
        assert_fits(child, value[name], f"{path}.{name}")


@pytest.fixture
def full_conversation(channel, team, operator):
    """A conversation with every optional part present: assignee, team, resolver, labels, SLA,
    a message by an operator with an attachment and a content item, an event with an actor."""
    customer = CustomerFactory(attributes={"plan": "gold"})
    IdentityFactory(customer=customer)
    IdentityClaim.objects.create(customer=customer, kind="phone", value="+48600100200")
    conversation = ConversationFactory(
        channel=channel,
        customer=customer,
        team=team,
        assignee=operator,
        resolved_by=operator,
        resolved_at=timezone.now(),
        first_response_at=timezone.now(),
        snoozed_until=timezone.now() + timedelta(hours=1),
        sla_policy=SlaPolicy.objects.create(name="Standard"),
        first_response_due_at=timezone.now(),
        next_response_due_at=timezone.now(),
        resolution_due_at=timezone.now(),
        first_response_breached=True,
    )
    conversation.labels.set([LabelFactory(name="vip")])
    message = MessageFactory(
        conversation=conversation,
        author=operator,
        sent_at=timezone.now(),
        content_items=[{"kind": "reaction", "data": {"emoji": "👍"}}],
    )
    Attachment.objects.create(
        message=message, filename="a.pdf", remote_url="https://files.example.com/a.pdf"
    )
    conversation_event_record(
        conversation=conversation,
        kind=ConversationEventKind.RESOLVED,
        actor=operator,
    )
    return conversation


def give_a_score_of_every_kind(customer) -> None:
    """Answered surveys of each kind (a poor CSAT among them), on a channel the operator's
    teams do not serve: the customer's health shows them, their timeline does not."""
    now = timezone.now()
    for kind, rating in (("csat", 1), ("ces", 6), ("nps", 9)):
        conversation = ConversationFactory(customer=customer)
        CsatSurvey.objects.create(
            conversation=conversation,
            customer=customer,
            channel=conversation.channel,
            kind=kind,
            token=f"t-shape-{kind}",
            due_at=now,
            status=SurveyStatus.ANSWERED,
            sent_at=now - timedelta(hours=2),
            rating=rating,
            answered_at=now - timedelta(hours=1),
        )


def _loaded(conversation, user):
    return selectors.conversation_get_for_user(user=user, conversation_id=conversation.pk)


def test_a_conversation_is_written_as_documented(full_conversation, operator):
    written = conversation_representation(_loaded(full_conversation, operator))

    assert_fits(documented_shape(s.ConversationOutputSerializer()), written)


def test_a_message_and_its_attachments_are_written_as_documented(full_conversation):
    message = selectors.message_list(conversation=full_conversation).get()

    assert_fits(documented_shape(s.MessageOutputSerializer()), message_representation(message))
    assert_fits(
        documented_shape(s.AttachmentOutputSerializer()),
        attachment_representation(message.attachments.get()),
    )


def test_an_event_of_a_conversation_is_written_as_documented(full_conversation):
    event = selectors.conversation_event_list(conversation=full_conversation).get()

    assert_fits(
        documented_shape(s.ConversationEventOutputSerializer()),
        conversation_event_representation(event),
    )


def test_a_label_and_an_operator_are_written_as_documented(full_conversation, operator):
    label = full_conversation.labels.get()

    assert_fits(documented_shape(s.LabelOutputSerializer()), label_representation(label))
    assert_fits(documented_shape(s.OperatorRefSerializer()), operator_representation(operator))
    assert_fits(
        documented_shape(s.OperatorOutputSerializer()),
        s.OperatorOutputSerializer(operator).data,
    )


def test_a_customer_is_written_as_documented_in_lists_and_alone(full_conversation, operator):
    give_a_score_of_every_kind(full_conversation.customer)
    supervisor = UserFactory(role=Role.SUPERVISOR)
    customer = selectors.customers_visible_to(supervisor).get(pk=full_conversation.customer_id)
    rows = selectors.customer_rows_complete(
        list(selectors.customer_rows_for_user(user=supervisor).filter(pk=customer.pk))
    )
    timeline = selectors.customer_timeline(user=operator, customer_id=customer.pk)
    documented = documented_shape(cs.CustomerOutputSerializer())

    assert_fits(documented, customer_representation(customer))
    assert_fits(documented, customer_row_representation(rows[0]))
    assert customer_row_representation(rows[0]) == customer_representation(customer)
    assert_fits(
        documented_shape(cs.CustomerDetailOutputSerializer()),
        cs.CustomerDetailOutputSerializer(
            customer,
            context={"timeline": timeline, "health": customer_health(customer_id=customer.pk)},
        ).data,
    )


def test_a_field_missing_from_the_documentation_is_caught(full_conversation, operator):
    written = conversation_representation(_loaded(full_conversation, operator))
    written["channel"]["public_id"] = "abc"

    with pytest.raises(AssertionError, match=r"\$\.channel"):
        assert_fits(documented_shape(s.ConversationOutputSerializer()), written)


@pytest.mark.parametrize(
    ("url", "documented"),
    [
        ("/api/v1/conversations/", s.ConversationOutputSerializer()),
        ("/api/v1/conversations/{conversation}/", s.ConversationOutputSerializer()),
        ("/api/v1/conversations/{conversation}/messages/", s.MessageOutputSerializer()),
        ("/api/v1/conversations/{conversation}/events/", s.ConversationEventOutputSerializer()),
        ("/api/v1/customers/", cs.CustomerOutputSerializer()),
        ("/api/v1/customers/{customer}/", cs.CustomerDetailOutputSerializer()),
        ("/api/v1/labels/", s.LabelOutputSerializer(many=True)),
        ("/api/v1/operators/", s.OperatorOutputSerializer()),
    ],
)
def test_the_api_answers_as_documented(full_conversation, operator, url, documented):
    url = url.format(conversation=full_conversation.pk, customer=full_conversation.customer_id)
    if url.endswith(f"/customers/{full_conversation.customer_id}/"):
        give_a_score_of_every_kind(full_conversation.customer)

    answer = client_for(operator).get(url).json()

    paged = "results" in answer and isinstance(documented, serializers.Serializer)
    assert_fits(documented_shape(documented), answer["results"][0] if paged else answer)


def test_the_reports_answer_as_documented(full_conversation, operator, supervisor):
    now = timezone.now()
    CsatSurvey.objects.create(
        conversation=full_conversation,
        customer=full_conversation.customer,
        channel=full_conversation.channel,
        operator=operator,
        token="t-shape",
        due_at=now,
        status=SurveyStatus.ANSWERED,
        sent_at=now - timedelta(hours=2),
        rating=2,
        comment="slow",
        answered_at=now - timedelta(hours=1),
    )
    seed_not_sent(full_conversation.channel, [("skipped", "no_template")])
    client = client_for(supervisor)

    csat = client.get("/api/v1/reports/csat/?group_by=operator").json()
    conversations = client.get("/api/v1/reports/conversations/").json()

    assert_fits(documented_shape(report_views.CsatReportSerializer()), csat)
    assert_fits(documented_shape(report_views.ConversationReportSerializer()), conversations)
