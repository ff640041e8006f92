"""REST API: the follow-up settings (admins) and a follow-up's outcome (who may see its
survey)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.base import current_operator
from inbox.api.permissions import IsAdmin
from inbox.api.settings_views import RefusingUnknownFields
from inbox.follow_ups.models import (
    FollowUpAction,
    FollowUpAssignment,
    FollowUpSettings,
)
from inbox.follow_ups.outcome import follow_up_record_outcome
from inbox.follow_ups.representation import follow_up_representation
from inbox.follow_ups.settings import follow_up_settings_get, follow_up_settings_update
from inbox.models import Team
from inbox.selectors.surveys import survey_follow_ups_for_user


class FollowUpSettingsSerializer(RefusingUnknownFields):
    """The settings left out of a PATCH keep their value."""

    enabled = serializers.BooleanField(required=False, help_text="default true")
    action = serializers.ChoiceField(
        choices=FollowUpAction.choices,
        required=False,
        help_text="reopen the surveyed conversation (default) or open a new one",
    )
    assign_to = serializers.ChoiceField(
        choices=FollowUpAssignment.choices,
        required=False,
        help_text="the surveyed team's supervisor (default), or `team`",
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )

    def validate(self, attrs):
        current = follow_up_settings_get()
        assign_to = attrs.get("assign_to", current.assign_to)
        if assign_to == FollowUpAssignment.TEAM and attrs.get("team", current.team) is None:
            raise ValidationError({"team": [gettext("choose the team that gets follow-ups")]})
        return attrs


def _settings_shown(row: FollowUpSettings) -> dict:
    return {
        "enabled": row.enabled,
        "action": row.action,
        "assign_to": row.assign_to,
        "team": row.team_id,
    }


class FollowUpSettingsApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        responses={200: FollowUpSettingsSerializer},
        description="What a low score (CSAT 1-2, CES 1-3, NPS 0-6) opens, and for whom.",
    )
    def get(self, request):
        return Response(_settings_shown(follow_up_settings_get()))

    @extend_schema(request=FollowUpSettingsSerializer, responses={200: FollowUpSettingsSerializer})
    def patch(self, request):
        given = FollowUpSettingsSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        return Response(_settings_shown(follow_up_settings_update(changes=given.validated_data)))


class FollowUpOutcomeSerializer(RefusingUnknownFields):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, help_text="what came of it"
    )
    resolved = serializers.BooleanField(
        required=False, help_text="true: done now, by you; false: open again"
    )


class FollowUpOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.IntegerField()
    action = serializers.ChoiceField(choices=FollowUpAction.choices)
    status = serializers.CharField()
    conversation = serializers.IntegerField(allow_null=True)
    assignee = serializers.IntegerField(allow_null=True)
    team = serializers.IntegerField(allow_null=True)
    resolved_by = serializers.IntegerField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class FollowUpOutcomeApi(APIView):
    @extend_schema(
        request=FollowUpOutcomeSerializer,
        responses={200: FollowUpOutputSerializer},
        description="Write down the outcome of a survey's follow-up, or mark it done.",
    )
    def patch(self, request, survey_id: int):
        given = FollowUpOutcomeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        operator = current_operator(request)
        follow_up = get_object_or_404(
            survey_follow_ups_for_user(user=operator), survey_id=survey_id
        )
        follow_up = follow_up_record_outcome(
            follow_up=follow_up,
            note=given.validated_data.get("note"),
            is_resolved=given.validated_data.get("resolved"),
            actor=operator,
        )
        return Response(follow_up_representation(follow_up))
