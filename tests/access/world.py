"""One small installation in which every role has something to reach: the objects the
permission matrix's paths name, built once per test."""

from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils import timezone

from automation.models import Macro
from automation.rules import rule_create
from channels_app.webhook_subscriptions import webhook_subscription_save
from customers.models import CustomerMerge
from customers.services import customer_merge
from inbox.models import (
    Attachment,
    BusinessHours,
    Conversation,
    CsatSurvey,
    MessageDirection,
    MessageStatus,
    Role,
    SlaPolicy,
    SurveyFollowUp,
    SurveyStatus,
    User,
)
from inbox.outgoing_webhooks.emitting import webhook_deliveries_record
from tests.factories import (
    CannedResponseFactory,
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    LabelFactory,
    MessageFactory,
    TeamFactory,
    UserFactory,
    WebchatChannelFactory,
)

ROLES = ("admin", "supervisor", "operator", "outsider", "anonymous")


@dataclass
class World:
    users: dict[str, User | None]
    # A serving operator who acts while the roles watch (see the socket matrix).
    colleague: User
    webchat_public_id: str
    ids: dict[str, int | str]
    conversation: Conversation
    merge: CustomerMerge


def world_build() -> World:
    serving = TeamFactory(name="Serving")
    other = TeamFactory(name="Elsewhere")
    channel = ChannelFactory(teams=[serving])
    other_channel = ChannelFactory(teams=[other])
    webchat = WebchatChannelFactory(teams=[serving])
    users: dict[str, User | None] = {
        "admin": UserFactory(
            username="matrix-admin", role=Role.ADMIN, is_staff=True, is_superuser=True
        ),
        "supervisor": UserFactory(username="matrix-supervisor", role=Role.SUPERVISOR),
        "operator": UserFactory(username="matrix-operator", teams=[serving]),
        "outsider": UserFactory(username="matrix-outsider", teams=[other]),
        "anonymous": None,
    }
    colleague = UserFactory(username="matrix-colleague", teams=[serving])
    customer = CustomerFactory()
    conversation = ConversationFactory(channel=channel, customer=customer)
    MessageFactory(conversation=conversation)
    failed = MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.FAILED,
        author=colleague,
    )
    attachment = Attachment.objects.create(
        message=failed, filename="note.txt", content_type="text/plain", size=2
    )
    attachment.file.save("note.txt", ContentFile(b"hi"))
    ConversationFactory(channel=other_channel)
    duplicate = CustomerFactory()
    ConversationFactory(channel=channel, customer=duplicate)
    survivor, merged = CustomerFactory(), CustomerFactory()
    ConversationFactory(channel=channel, customer=survivor)
    ConversationFactory(channel=channel, customer=merged)
    merge = customer_merge(survivor=survivor, merged=merged)
    label = LabelFactory(name="matrix-label")
    canned = CannedResponseFactory(shortcut="matrix-thanks")
    macro = Macro.objects.create(
        name="matrix macro", is_shared=True, actions=[{"type": "set_priority", "priority": "high"}]
    )
    calendar = BusinessHours.objects.create(
        name="matrix-hours", time_zone="Europe/Warsaw", weekly={"mon": [["09:00", "18:00"]]}
    )
    policy = SlaPolicy.objects.create(name="matrix-policy", business_hours=calendar)
    surveyed = ConversationFactory(channel=channel, customer=customer, status="resolved")
    survey = CsatSurvey.objects.create(
        conversation=surveyed,
        customer=customer,
        channel=channel,
        token="matrix-survey",
        due_at=timezone.now(),
        status=SurveyStatus.ANSWERED,
        rating=1,
        answered_at=timezone.now(),
    )
    SurveyFollowUp.objects.create(survey=survey, action="reopen", conversation=surveyed)
    # Its address answers nothing: the matrix checks who may act, not the delivery.
    webhook = webhook_subscription_save(
        subscription=None,
        values={
            "url": "http://127.0.0.1:9/hook",
            "events": ["message.created"],
            "secret": "matrix-secret-0123456789",
        },
    )
    [webhook_delivery] = webhook_deliveries_record(
        event="message.created", data={"id": failed.pk}, subscriptions=[webhook]
    )
    rule = rule_create(
        fields={
            "name": "matrix rule",
            "trigger": "conversation_created",
            "actions": [{"type": "set_priority", "priority": "high"}],
        }
    )
    return World(
        users=users,
        colleague=colleague,
        webchat_public_id=str(webchat.public_id),
        conversation=conversation,
        merge=merge,
        ids={
            "rule_id": rule.pk,
            "conversation_id": conversation.pk,
            "message_id": failed.pk,
            "customer_id": customer.pk,
            "duplicate_id": duplicate.pk,
            "merge_id": merge.pk,
            "channel_id": channel.pk,
            "webchat_id": webchat.pk,
            "label_id": label.pk,
            "canned_response_id": canned.pk,
            "macro_id": macro.pk,
            "business_hours_id": calendar.pk,
            "sla_policy_id": policy.pk,
            "survey_id": survey.pk,
            "team_id": other.pk,
            "serving_team_id": serving.pk,
            "operator_id": colleague.pk,
            "attachment_path": attachment.file.name,
            "webhook_id": webhook.pk,
            "delivery_id": str(webhook_delivery.delivery_id),
        },
    )
