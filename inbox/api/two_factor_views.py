"""REST API: an operator's two-step sign-in as admins see it, and its reset (a lost
phone). Setting it up and turning it off are the operator's own, on their settings page."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.permissions import IsAdmin
from inbox.audit.records import audit_actor
from inbox.models import User
from inbox.two_factor.devices import user_has_two_factor
from inbox.two_factor.recovery_codes import recovery_codes_remaining
from inbox.two_factor.services import two_factor_is_required_for, two_factor_reset


class TwoFactorStateOutputSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Signing in asks for a code from an app.")
    required_for_role = serializers.BooleanField(
        help_text="Their role must sign in with two steps (TWO_FACTOR_REQUIRED_ROLES)."
    )
    recovery_codes_remaining = serializers.IntegerField()


def _state(operator: User) -> Response:
    return Response(
        TwoFactorStateOutputSerializer(
            {
                "enabled": user_has_two_factor(operator),
                "required_for_role": two_factor_is_required_for(operator),
                "recovery_codes_remaining": recovery_codes_remaining(user=operator),
            }
        ).data
    )


class OperatorTwoFactorApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=TwoFactorStateOutputSerializer)
    def get(self, request, operator_id: int):
        return _state(get_object_or_404(User, pk=operator_id))


class OperatorTwoFactorResetApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        request=None,
        responses=TwoFactorStateOutputSerializer,
        description="Removes the operator's authenticator app and recovery codes (audited). "
        "They sign in with their password alone, or set a new app up at their next sign-in "
        "where their role requires one.",
    )
    def post(self, request, operator_id: int):
        operator = get_object_or_404(User, pk=operator_id)
        two_factor_reset(operator=operator, actor=audit_actor(request))
        return _state(operator)
