"""Input serializers validate; output serializers document the shapes for OpenAPI and
render through the plain representation functions shared with live events."""

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from customers.models import Customer
from inbox.api.health_serializers import CustomerHealthSerializer
from inbox.api.sla_serializers import ConversationSlaSerializer
from inbox.canned_responses import canned_response_may_change
from inbox.models import (
    CannedResponse,
    ConversationEventKind,
    ConversationStatus,
    Priority,
    Role,
    Team,
    User,
)
from inbox.representations import (
    conversation_event_representation,
    conversation_representation,
    customer_representation,
    label_representation,
    message_representation,
    operator_representation,
)


class OperatorRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class AttachmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField()


class ContentItemOutputSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="`reaction`, `reaction_removed`, `sticker`, `story_mention`, `story_reply`, "
        "`shared_post`, `platform_notice` or `unsupported`; more may be added."
    )
    # The API field is called "data", which shadows Serializer.data for the type checker.
    data = serializers.DictField(  # type: ignore[assignment]
        child=serializers.CharField(),
        help_text="The values of its kind: `emoji`, `url`, `title`, `type` (the platform's "
        "name of a kind that cannot be shown).",
    )
    text = serializers.CharField(help_text="One line in the reader's language.")


class MessageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=["in", "out"])
    body = serializers.CharField()
    body_full = serializers.CharField(
        help_text="Email: the whole text, quoted history and signature included; else empty."
    )
    body_html = serializers.CharField(
        help_text="Email: the sanitised HTML part (show it sandboxed); else empty."
    )
    private = serializers.BooleanField()
    status = serializers.CharField(
        help_text=(
            "Inbound: `received` or `read`. A private note: `internal`. A reply moves forward "
            "only: `queued` → `sending` → `sent` → `delivered` → `read`; or `failed` (with "
            "`error`), or `unknown` when its send was cut off on a platform that cannot tell "
            "whether the customer got it. Failed and unknown replies can be sent again "
            "(`retry/`)."
        )
    )
    error = serializers.CharField()
    external_id = serializers.CharField(allow_null=True)
    author = OperatorRefSerializer(allow_null=True)
    sent_from = serializers.CharField(
        help_text="Out, written outside Switchboard (the platform's own inbox): the app it "
        'was written in, e.g. "Meta Business Suite"; else empty.'
    )
    attachments = AttachmentOutputSerializer(many=True)
    content_items = ContentItemOutputSerializer(
        many=True,
        help_text="What the message carried besides its text and files (a reaction, a "
        "sticker, a story mention, a kind the platform would not show us): data, and a line "
        "in the reader's language.",
    )
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    edited_at = serializers.DateTimeField(allow_null=True)
    reaction = serializers.CharField(
        help_text="The emoji the customer reacted to this message with (Messenger, Instagram); "
        "empty when none or taken back."
    )
    deleted_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the customer deleted this message on the platform (Instagram): its "
        "text and files are gone, the message stays.",
    )

    def to_representation(self, instance):
        return message_representation(instance)


# Every JSON error (inbox.api.errors): `fields` is a reserved name on a Serializer class.
ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": serializers.CharField(help_text="A code: `invalid`, `not_found`, …"),
        "detail": serializers.CharField(help_text="What went wrong, in the reader's language."),
        "fields": serializers.DictField(
            required=False, help_text="With `invalid`: the errors by field."
        ),
    },
)


class ConversationEventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ConversationEventKind.choices)
    actor = OperatorRefSerializer(allow_null=True)
    # The API field is called "data", which shadows Serializer.data for the type checker.
    data = serializers.DictField(help_text="Names the text was made from, by kind.")  # type: ignore[assignment]
    text = serializers.CharField(help_text='One line for the thread: "Anna resolved this".')
    created_at = serializers.DateTimeField()

    def to_representation(self, instance):
        return conversation_event_representation(instance)


class ChannelRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LabelOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField(help_text="#rrggbb")

    def to_representation(self, instance):
        return label_representation(instance)


class LabelCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)


class LabelUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False)
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)


class ConversationLabelsInputSerializer(serializers.Serializer):
    labels = serializers.ListField(
        child=serializers.IntegerField(), max_length=20, help_text="Every label id it should carry."
    )


class ConversationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ConversationStatus.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    subject = serializers.CharField()
    channel = ChannelRefSerializer()
    customer = CustomerRefSerializer()
    assignee = OperatorRefSerializer(allow_null=True)
    team = TeamRefSerializer(allow_null=True)
    last_message_at = serializers.DateTimeField(allow_null=True)
    first_response_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = OperatorRefSerializer(allow_null=True)
    snoozed_until = serializers.DateTimeField(allow_null=True)
    labels = LabelOutputSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    sla = ConversationSlaSerializer(allow_null=True, help_text="null: no SLA policy applies")

    def to_representation(self, instance):
        return conversation_representation(instance)


CONVERSATION_FILTERS = ("status", "assignee", "team", "channel", "customer", "label", "q", "sla")
SLA_FILTERS = ("breached", "due_soon")


class ConversationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ConversationStatus.choices, required=False)
    assignee = serializers.RegexField(r"^(me|none|\d+)$", required=False)
    team = serializers.IntegerField(required=False)
    channel = serializers.IntegerField(required=False)
    customer = serializers.IntegerField(required=False)
    # The query parameter is called "label", which shadows Field.label for the type checker.
    label = serializers.IntegerField(required=False)  # type: ignore[assignment]
    q = serializers.CharField(required=False, max_length=200)
    sla = serializers.ChoiceField(choices=SLA_FILTERS, required=False)


_ID_VALUE = re.compile(r"[0-9]{1,18}")
_ASSIGNEE_VALUE = re.compile(r"me|none|[0-9]{1,18}")
_FORBIDDEN_IN_TEXT = re.compile("[\x00\ud800-\udfff]")


def _plainly_valid_filter(name: str, value: str) -> Any:
    if name == "status":
        return value if value in ConversationStatus.values else None
    if name == "assignee":
        return value if _ASSIGNEE_VALUE.fullmatch(value) else None
    if name == "sla":
        return value if value in SLA_FILTERS else None
    if name == "q":
        text = value.strip()
        is_plain = 0 < len(text) <= 200 and not _FORBIDDEN_IN_TEXT.search(text)
        return text if is_plain else None
    return int(value) if _ID_VALUE.fullmatch(value) else None


def conversation_filters_if_plainly_valid(params: Mapping[str, str]) -> dict[str, Any] | None:
    """What ConversationFilterSerializer validates the query to, when each filter given is
    plainly valid (a known status, an id of digits, a short text...), without building the
    serializer (~700 Python calls, a tenth of a list request); None otherwise, for the
    serializer to judge and word the error."""
    data = {}
    for name in CONVERSATION_FILTERS:
        if name in params:
            value = _plainly_valid_filter(name, params[name])
            if value is None:
                return None
            data[name] = value
    return data


class ConversationUpdateInputSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)


class AssignInputSerializer(serializers.Serializer):
    operator = serializers.IntegerField(required=False, allow_null=True)
    team = serializers.IntegerField(required=False, allow_null=True)

    def validate(self, attrs):
        if "operator" not in attrs and "team" not in attrs:
            raise serializers.ValidationError(
                gettext("give an operator and/or a team (null unassigns)")
            )
        return attrs


class SnoozeInputSerializer(serializers.Serializer):
    until = serializers.DateTimeField()


class ReplyInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=65_536, trim_whitespace=False)
    private = serializers.BooleanField(default=False)


class ReplyWithFilesInputSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=65_536, trim_whitespace=False, required=False, allow_blank=True, default=""
    )
    private = serializers.BooleanField(default=False)
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False, use_url=False),
        required=False,
        default=list,
        help_text="Up to 10 files, 25 MB each; executables are refused.",
    )


class IdentityOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    value = serializers.CharField()
    username = serializers.CharField(
        help_text="The person's handle on the platform where it has one beside the id "
        "(Instagram's username); else empty."
    )
    is_reachable = serializers.BooleanField()
    username = serializers.CharField(
        help_text="The person's handle on the platform (VK's screen name); \"\" if none."
    )
    avatar_url = serializers.CharField(
        help_text='The picture the platform shows for the person (Viber\'s avatar); "" if none.'
    )


class ClaimOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    value = serializers.CharField()


class CustomerOutputSerializer(serializers.ModelSerializer):
    identities = IdentityOutputSerializer(many=True, read_only=True)
    claims = ClaimOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "language",
            "attributes",
            "identities",
            "claims",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, instance):
        return customer_representation(instance)


class CustomerDetailOutputSerializer(CustomerOutputSerializer):
    timeline = ConversationOutputSerializer(
        many=True, read_only=True, help_text="The customer's conversations, newest first."
    )

    health = CustomerHealthSerializer(read_only=True, help_text="Risk level and its signals.")

    class Meta(CustomerOutputSerializer.Meta):
        fields = [*CustomerOutputSerializer.Meta.fields, "timeline", "health"]

    def to_representation(self, instance):
        timeline = [conversation_representation(c) for c in self.context["timeline"]]
        health = self.context["health"].as_dict()
        return {**customer_representation(instance), "timeline": timeline, "health": health}


class CustomerUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    language = serializers.ChoiceField(
        choices=[code for code, _ in settings.LANGUAGES],
        required=False,
        allow_blank=True,
        help_text='What the customer reads; "" follows their channel\'s language.',
    )
    attributes = serializers.DictField(required=False)


class MergeInputSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="The duplicate profile, merged into this one.")


class MergeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survivor = serializers.IntegerField(source="survivor_id")
    merged = serializers.IntegerField(source="merged_id")
    moved = serializers.DictField()
    created_at = serializers.DateTimeField()
    undone_at = serializers.DateTimeField(allow_null=True)


class CustomerExportOutputSerializer(serializers.Serializer):
    format = serializers.IntegerField(help_text="The document's version (1).")
    exported_at = serializers.DateTimeField()
    customer = serializers.DictField(
        help_text="The profile as customers/<id>/ reads it, with merged_into, erased_at, notes."
    )
    merged_profiles = serializers.ListField(
        child=serializers.DictField(), help_text="Profiles merged into this one, alike."
    )
    conversations = serializers.ListField(
        child=serializers.DictField(),
        help_text="Each as conversations/<id>/ reads it, with erased_at, messages "
        "(with attachments and their url) and events.",
    )
    surveys = serializers.ListField(child=serializers.DictField())
    merges = serializers.ListField(child=serializers.DictField())


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.filter(is_active=True), required=False
    )

    class Meta:
        model = Team
        fields = ["id", "name", "members", "auto_assign", "auto_assign_limit", "created_at"]
        read_only_fields = ["created_at"]


class OperatorOutputSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "role", "teams", "is_active"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data.update(operator_representation(instance) or {})
        return data


class OperatorInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.OPERATOR)
    password = serializers.CharField(write_only=True, required=False, min_length=8)
    teams = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Team.objects.all(), required=False
    )


class OperatorUpdateInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    teams = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Team.objects.all(), required=False
    )
    is_active = serializers.BooleanField(required=False, help_text="false: may not sign in")


class CannedResponseSerializer(serializers.ModelSerializer):
    """`is_shared`: offered to everyone, changed by supervisors and admins only (their new
    replies are shared unless they say otherwise); false: seen and changed by its owner
    alone (operators' replies are always personal). `can_edit`: whether the reader may
    change or delete it."""

    is_shared = serializers.BooleanField(required=False)
    owner: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        source="created_by", read_only=True
    )
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = CannedResponse
        fields = [
            "id",
            "shortcut",
            "body",
            "is_shared",
            "owner",
            "can_edit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Shortcuts are checked by the views, against the owner's replies or the shared ones.
        validators: list = []

    def get_can_edit(self, canned_response: CannedResponse) -> bool:
        request = self.context.get("request")
        return request is not None and canned_response_may_change(
            user=request.user, canned_response=canned_response
        )
