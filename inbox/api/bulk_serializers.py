"""The shapes of `conversations/bulk/` and `conversations/export/`."""

from django.utils.translation import gettext
from rest_framework import serializers

from inbox import services
from inbox.api.report_views import period_dates_as_times
from inbox.api.serializers import ConversationFilterSerializer
from inbox.labels import MAX_LABELS_PER_CONVERSATION

# An action's own values, beside "ids" or "filter" and "action".
_PARAMETERS_OF_ACTION = {
    "assign": ("operator", "team"),
    "label": ("labels",),
    "unlabel": ("labels",),
    "snooze": ("until",),
}


class BulkActionInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        min_length=1,
        max_length=services.BULK_ACTION_MAX_CONVERSATIONS,
        help_text=(
            f"The conversations to act on (at most {services.BULK_ACTION_MAX_CONVERSATIONS})."
        ),
    )
    filter = serializers.DictField(
        required=False,
        help_text=(
            "Instead of ids: every conversation the list shows with these filters (as the "
            "list's query: status, assignee, team, channel, customer, label, q, sla); refused "
            f"when more than {services.BULK_ACTION_MAX_CONVERSATIONS} match."
        ),
    )
    action = serializers.ChoiceField(choices=services.BULK_ACTIONS)
    operator = serializers.IntegerField(
        required=False, allow_null=True, help_text="assign: the operator (null unassigns)."
    )
    team = serializers.IntegerField(
        required=False, allow_null=True, help_text="assign: the team (null takes it away)."
    )
    labels = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        min_length=1,
        max_length=MAX_LABELS_PER_CONVERSATION,
        help_text="label / unlabel: the label ids to add or remove.",
    )
    until = serializers.DateTimeField(required=False, help_text="snooze: until when.")

    def validate_filter(self, value):
        filters = ConversationFilterSerializer(data=value)
        if not filters.is_valid():
            # One message per filter, named, rather than a nested object of errors.
            raise serializers.ValidationError(
                [f"{name}: {errors[0]}" for name, errors in filters.errors.items()]
            )
        return filters.validated_data

    def validate(self, attrs):
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError(gettext("give either ids or a filter"))
        action = attrs["action"]
        needed = _PARAMETERS_OF_ACTION.get(action, ())
        if needed and not any(name in attrs for name in needed):
            raise serializers.ValidationError(
                {needed[0]: [gettext("required for the action %(action)s") % {"action": action}]}
            )
        return attrs


class BulkActionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ok = serializers.BooleanField()
    error = serializers.CharField(allow_null=True, help_text="Why it was not done (null if done).")


class BulkActionOutputSerializer(serializers.Serializer):
    results = BulkActionResultSerializer(many=True)


class ConversationExportQuerySerializer(ConversationFilterSerializer):
    format = serializers.ChoiceField(choices=("csv", "jsonl"), default="csv")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword, so the fields are added by name.
        self.fields["from"] = serializers.DateTimeField(required=False)
        self.fields["to"] = serializers.DateTimeField(required=False)

    def to_internal_value(self, data):
        return super().to_internal_value(period_dates_as_times(data))
