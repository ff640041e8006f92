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
from inbox.notifications.settings import (
    checked_notification_settings,
    notification_settings_of,
)


class PersonalSettingsOutputSerializer(OperatorOutputSerializer):
    language = serializers.CharField(
        help_text='The language of their pages; "" follows the browser.'
    )

    time_zone = serializers.CharField(
        help_text='The IANA time zone their pages show times in ("Europe/Warsaw"); "" '
        "follows the browser."
    )

    notifications = serializers.SerializerMethodField(
        help_text='{"in_app": [kinds], "browser": [kinds], "email": [kinds], "sound": bool}: '
        "which notifications they get in the panel, as browser notifications and by email"
    )

    class Meta(OperatorOutputSerializer.Meta):
        fields = [*OperatorOutputSerializer.Meta.fields, "language", "time_zone", "notifications"]

    def get_notifications(self, user: User) -> dict:
        return notification_settings_of(user)


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
    notifications = serializers.JSONField(
        required=False,
        help_text='{"in_app": [kinds], "browser": [kinds], "email": [kinds], "sound": bool}; '
        "kinds: mention, assigned, sla_due_soon, customer_replied",
    )

    def validate_notifications(self, value) -> dict:
        try:
            return checked_notification_settings(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error

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
        fields = dict(data.validated_data)
        if "notifications" in fields:
            fields["notification_settings"] = fields.pop("notifications")
        operator = people.operator_personal_settings_update(user=cast(User, request.user), **fields)
        return Response(PersonalSettingsOutputSerializer(operator).data)
