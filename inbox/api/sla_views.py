"""REST API: business hours (calendars) and SLA policies, for admins."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.permissions import IsAdmin
from inbox.api.sla_serializers import (
    BusinessHoursInputSerializer,
    BusinessHoursOutputSerializer,
    SlaPolicyInputSerializer,
    SlaPolicyOutputSerializer,
)
from inbox.sla.administration import (
    SlaSettingInvalid,
    business_hours_delete,
    business_hours_save,
    sla_policy_delete,
    sla_policy_save,
)
from inbox.sla.models import BusinessHours, SlaPolicy


def _setting_action(action):
    try:
        return action()
    except SlaSettingInvalid as error:
        raise ValidationError({error.field: [str(error)]}) from error


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
