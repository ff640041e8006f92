"""`operators/me/`: the signed-in operator reads and changes their own settings."""

import zoneinfo
from typing import cast

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import people
from inbox.api.serializers import OperatorOutputSerializer
from inbox.models import User


class PersonalSettingsOutputSerializer(OperatorOutputSerializer):
    language = serializers.CharField(
        help_text='The language of their pages; "" follows the browser.'
    )

    time_zone = serializers.CharField(
        help_text='The IANA time zone their pages show times in ("Europe/Warsaw"); "" '
        "follows the browser."
    )

    class Meta(OperatorOutputSerializer.Meta):
        fields = [*OperatorOutputSerializer.Meta.fields, "language", "time_zone"]


class PersonalSettingsInputSerializer(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=[code for code, _ in settings.LANGUAGES], required=False, allow_blank=True
    )
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text='An IANA time zone name ("Europe/Moscow"); "" follows the browser.',
    )
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)

    def validate_time_zone(self, value: str) -> str:
        if value and value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(_("Not a time zone: %(name)s.") % {"name": value})
        return value


class OperatorMeApi(APIView):
    @extend_schema(responses=PersonalSettingsOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(PersonalSettingsOutputSerializer(cast(User, request.user)).data)

    @extend_schema(
        request=PersonalSettingsInputSerializer, responses=PersonalSettingsOutputSerializer
    )
    def patch(self, request: Request) -> Response:
        data = PersonalSettingsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        operator = people.operator_personal_settings_update(
            user=cast(User, request.user), **data.validated_data
        )
        return Response(PersonalSettingsOutputSerializer(operator).data)
