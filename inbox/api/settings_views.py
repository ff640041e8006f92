"""Installation settings for admins: the NPS relationship survey."""

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.permissions import IsAdmin
from inbox.api.texts import TextPerLanguageField
from inbox.nps_settings import NpsSettings, nps_settings_get, nps_settings_update


class RefusingUnknownFields(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError({name: [gettext("unknown setting")] for name in unknown})
        return super().to_internal_value(data)


class NpsSettingsSerializer(RefusingUnknownFields):
    """The settings left out of a PATCH keep their value."""

    enabled = serializers.BooleanField(required=False, help_text="default false")
    interval_days = serializers.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        help_text="a customer is asked NPS at most once in this many days (default 90)",
    )
    sample_percent = serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        help_text="the share of eligible customers asked (default 100)",
    )
    question = TextPerLanguageField(
        required=False,
        allow_null=True,
        help_text="null for the built-in question in the customer's language",
    )
    follow_up = serializers.BooleanField(
        required=False,
        help_text='ask "What is the main reason for your score?" after a score (default true)',
    )


def _shown(row: NpsSettings) -> dict:
    return {
        "enabled": row.enabled,
        "interval_days": row.interval_days,
        "sample_percent": row.sample_percent,
        "question": row.question or None,
        "follow_up": row.follow_up,
    }


class NpsSettingsApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        responses={200: NpsSettingsSerializer},
        description="NPS as a relationship survey: asked after a resolved conversation in "
        "place of its CSAT or CES, at most once per interval_days per customer.",
    )
    def get(self, request):
        return Response(_shown(nps_settings_get()))

    @extend_schema(request=NpsSettingsSerializer, responses={200: NpsSettingsSerializer})
    def patch(self, request):
        given = NpsSettingsSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        changes = dict(given.validated_data)
        if "question" in changes and changes["question"] is None:
            changes["question"] = ""
        return Response(_shown(nps_settings_update(changes=changes)))
