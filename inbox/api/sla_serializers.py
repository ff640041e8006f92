"""The API's shapes of speed of answer: a conversation's SLA, calendars of business
hours and SLA policies (their checks in inbox.sla.business_hours)."""

from django.utils.translation import gettext
from rest_framework import serializers

from inbox.models import Conversation, Priority, Team
from inbox.representations import SLA_TARGETS
from inbox.sla import business_hours as checks
from inbox.sla.models import BusinessHours


class SlaPolicyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ConversationSlaSerializer(serializers.Serializer):
    policy = SlaPolicyRefSerializer()
    first_response_due_at = serializers.DateTimeField(
        allow_null=True, help_text="null once met, or when the policy has no such target"
    )
    next_response_due_at = serializers.DateTimeField(
        allow_null=True, help_text="while the customer waits for the next answer"
    )
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    breached = serializers.ListField(
        child=serializers.ChoiceField(choices=SLA_TARGETS), help_text="the targets missed"
    )


def _checked(check, value):
    try:
        return check(value)
    except checks.BusinessHoursInvalid as error:
        raise serializers.ValidationError(str(error)) from error


class BusinessHoursOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    timezone = serializers.CharField(source="time_zone")
    weekly = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField())),
        help_text='each day ("mon".."sun") and its ["HH:MM", "HH:MM"] intervals',
    )
    holidays = serializers.ListField(child=serializers.DateField())
    yearly_holidays = serializers.ListField(
        child=serializers.CharField(), help_text='days closed every year, "MM-DD"'
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class BusinessHoursInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    timezone = serializers.CharField(max_length=64, help_text="an IANA time zone")
    weekly = serializers.JSONField(
        help_text='{"mon": [["09:00", "13:00"], ["14:00", "18:00"]], ...}; days left out are closed'
    )
    holidays = serializers.JSONField(required=False, help_text='["YYYY-MM-DD", ...]')
    yearly_holidays = serializers.JSONField(required=False, help_text='["MM-DD", ...]')

    def validate_timezone(self, value):
        return _checked(checks.check_time_zone, value)

    def validate_weekly(self, value):
        return _checked(checks.check_weekly, value)

    def validate_holidays(self, value):
        return _checked(checks.check_holidays, value)

    def validate_yearly_holidays(self, value):
        return _checked(checks.check_yearly_holidays, value)


class SlaPolicyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    first_response_minutes = serializers.IntegerField(allow_null=True)
    next_response_minutes = serializers.IntegerField(allow_null=True)
    resolution_minutes = serializers.IntegerField(allow_null=True)
    business_hours = serializers.IntegerField(
        source="business_hours_id", allow_null=True, help_text="null: round the clock"
    )
    channels = serializers.ListField(child=serializers.IntegerField())
    teams = serializers.ListField(child=serializers.IntegerField())
    priorities = serializers.ListField(child=serializers.ChoiceField(choices=Priority.choices))
    position = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SlaPolicyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    first_response_minutes = serializers.IntegerField(min_value=1, allow_null=True, required=False)
    next_response_minutes = serializers.IntegerField(min_value=1, allow_null=True, required=False)
    resolution_minutes = serializers.IntegerField(min_value=1, allow_null=True, required=False)
    business_hours = serializers.PrimaryKeyRelatedField(
        queryset=BusinessHours.objects.all(),
        allow_null=True,
        required=False,
        help_text="a calendar's id; null: round the clock",
    )
    channels = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        help_text="any if empty",
    )
    teams = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        help_text="any if empty",
    )
    priorities = serializers.ListField(
        child=serializers.ChoiceField(choices=Priority.choices),
        required=False,
        max_length=len(Priority.values),
        help_text="any if empty",
    )
    position = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    def validate_channels(self, value):
        # The channel model by relation: inbox does not import channels_app.
        return _existing_ids(Conversation._meta.get_field("channel").related_model, value)

    def validate_teams(self, value):
        return _existing_ids(Team, value)

    def validate_priorities(self, value):
        return sorted(set(value), key=Priority.values.index)


def _existing_ids(model, ids: list[int]) -> list[int]:
    wanted = sorted(set(ids))
    found = set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise serializers.ValidationError(gettext("no such id: %(id)s") % {"id": missing[0]})
    return wanted
