"""REST API: business hours (calendars) and SLA policies, for admins."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.permissions import IsAdmin
from inbox.models import Conversation, Priority, Team
from inbox.sla import business_hours as checks
from inbox.sla.administration import (
    SlaSettingInvalid,
    business_hours_delete,
    business_hours_save,
    sla_policy_delete,
    sla_policy_save,
)
from inbox.sla.models import BusinessHours, SlaPolicy


def _checked(check, value):
    try:
        return check(value)
    except checks.BusinessHoursInvalid as error:
        raise serializers.ValidationError(str(error)) from error


def _setting_action(action):
    try:
        return action()
    except SlaSettingInvalid as error:
        raise ValidationError({error.field: [str(error)]}) from error


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


@dataclass(frozen=True)
class _Saving:
    input: type[serializers.Serializer]
    output: type[serializers.Serializer]
    service: Callable[..., Any]


def _saved(request, instance, *, partial: bool, save: _Saving) -> Response:
    """Create (instance None) or change a setting from the request, answered as it reads."""
    data = save.input(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    saved = _setting_action(lambda: save.service(instance, dict(data.validated_data)))
    created = instance is None
    return Response(
        save.output(saved).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


def _business_hours_save_from(instance, values: dict[str, Any]):
    if "timezone" in values:
        values["time_zone"] = values.pop("timezone")
    return business_hours_save(business_hours=instance, **values)


_business_hours_save = _Saving(
    BusinessHoursInputSerializer, BusinessHoursOutputSerializer, _business_hours_save_from
)


class BusinessHoursListApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=BusinessHoursOutputSerializer(many=True))
    def get(self, request):
        calendars = BusinessHours.objects.order_by("name")
        return Response(BusinessHoursOutputSerializer(calendars, many=True).data)

    @extend_schema(
        request=BusinessHoursInputSerializer, responses={201: BusinessHoursOutputSerializer}
    )
    def post(self, request):
        return _saved(request, None, partial=False, save=_business_hours_save)


class BusinessHoursDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=BusinessHoursOutputSerializer)
    def get(self, request, business_hours_id: int):
        calendar = get_object_or_404(BusinessHours, pk=business_hours_id)
        return Response(BusinessHoursOutputSerializer(calendar).data)

    @extend_schema(request=BusinessHoursInputSerializer, responses=BusinessHoursOutputSerializer)
    def put(self, request, business_hours_id: int):
        return self._change(request, business_hours_id, partial=False)

    @extend_schema(request=BusinessHoursInputSerializer, responses=BusinessHoursOutputSerializer)
    def patch(self, request, business_hours_id: int):
        return self._change(request, business_hours_id, partial=True)

    def _change(self, request, business_hours_id: int, *, partial: bool):
        calendar = get_object_or_404(BusinessHours, pk=business_hours_id)
        return _saved(request, calendar, partial=partial, save=_business_hours_save)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, business_hours_id: int):
        calendar = get_object_or_404(BusinessHours, pk=business_hours_id)
        _setting_action(lambda: business_hours_delete(business_hours=calendar))
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        child=serializers.IntegerField(), required=False, max_length=1000, help_text="any if empty"
    )
    teams = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=1000, help_text="any if empty"
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


_sla_policy_save = _Saving(
    SlaPolicyInputSerializer,
    SlaPolicyOutputSerializer,
    lambda instance, values: sla_policy_save(policy=instance, **values),
)


class SlaPolicyListApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=SlaPolicyOutputSerializer(many=True))
    def get(self, request):
        return Response(SlaPolicyOutputSerializer(SlaPolicy.objects.all(), many=True).data)

    @extend_schema(request=SlaPolicyInputSerializer, responses={201: SlaPolicyOutputSerializer})
    def post(self, request):
        return _saved(request, None, partial=False, save=_sla_policy_save)


class SlaPolicyDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=SlaPolicyOutputSerializer)
    def get(self, request, sla_policy_id: int):
        policy = get_object_or_404(SlaPolicy, pk=sla_policy_id)
        return Response(SlaPolicyOutputSerializer(policy).data)

    @extend_schema(request=SlaPolicyInputSerializer, responses=SlaPolicyOutputSerializer)
    def put(self, request, sla_policy_id: int):
        return self._change(request, sla_policy_id, partial=False)

    @extend_schema(request=SlaPolicyInputSerializer, responses=SlaPolicyOutputSerializer)
    def patch(self, request, sla_policy_id: int):
        return self._change(request, sla_policy_id, partial=True)

    def _change(self, request, sla_policy_id: int, *, partial: bool):
        policy = get_object_or_404(SlaPolicy, pk=sla_policy_id)
        return _saved(request, policy, partial=partial, save=_sla_policy_save)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, sla_policy_id: int):
        sla_policy_delete(policy=get_object_or_404(SlaPolicy, pk=sla_policy_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
