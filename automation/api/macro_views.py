"""REST API: macros (every operator: their own and the shared ones) and applying one to a
conversation."""

from typing import Any

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from automation import macros
from automation.api.views import accepted_fields
from automation.conditions import RuleInvalid
from automation.models import Macro
from inbox.api import serializers as inbox_serializers
from inbox.api.base import conversation_or_404, current_operator


class MacroOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    actions = serializers.JSONField(help_text="The rules' actions (docs/automation.md)")
    is_shared = serializers.BooleanField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class MacroInputSerializer(serializers.Serializer):
    """Checked further by automation.macros."""

    name = serializers.CharField(max_length=100)
    actions = serializers.JSONField()
    is_shared = serializers.BooleanField(required=False)


class ApplyInputSerializer(serializers.Serializer):
    conversation = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class ActionOutcomeSerializer(serializers.Serializer):
    type = serializers.CharField()
    ok = serializers.BooleanField(required=False)
    error = serializers.CharField(required=False, help_text="Why this action did not fit")


class ApplyOutputSerializer(serializers.Serializer):
    conversation = inbox_serializers.ConversationOutputSerializer()
    actions = ActionOutcomeSerializer(many=True)


def _checked(action) -> Any:
    try:
        return action()
    except RuleInvalid as error:
        raise ValidationError({"detail": str(error)}) from error
    except macros.MacroNotYours as error:
        raise PermissionDenied(str(error)) from error


def _fields(request, *, partial: bool) -> dict[str, Any]:
    return accepted_fields(request, MacroInputSerializer, partial=partial)


def _macro_or_404(request, macro_id: int) -> Macro:
    macro = macros.macros_for(user=current_operator(request)).filter(pk=macro_id).first()
    if macro is None:
        raise NotFound(gettext("No such macro."))
    return macro


class MacroListApi(APIView):
    @extend_schema(responses=MacroOutputSerializer(many=True))
    def get(self, request):
        found = macros.macros_for(user=current_operator(request))
        return Response(MacroOutputSerializer(found, many=True).data)

    @extend_schema(request=MacroInputSerializer, responses={201: MacroOutputSerializer})
    def post(self, request):
        fields = _fields(request, partial=False)
        owner = current_operator(request)
        macro = _checked(lambda: macros.macro_create(fields=fields, owner=owner))
        return Response(MacroOutputSerializer(macro).data, status=status.HTTP_201_CREATED)


class MacroDetailApi(APIView):
    """Others' personal macros are not found (404); shared ones are read by everyone and
    changed or deleted by supervisors and admins only (403)."""

    @extend_schema(responses=MacroOutputSerializer)
    def get(self, request, macro_id: int):
        return Response(MacroOutputSerializer(_macro_or_404(request, macro_id)).data)

    @extend_schema(request=MacroInputSerializer, responses=MacroOutputSerializer)
    def patch(self, request, macro_id: int):
        macro = _macro_or_404(request, macro_id)
        fields = _fields(request, partial=True)
        user = current_operator(request)
        macro = _checked(lambda: macros.macro_update(macro=macro, fields=fields, user=user))
        return Response(MacroOutputSerializer(macro).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, macro_id: int):
        macro = _macro_or_404(request, macro_id)
        user = current_operator(request)
        _checked(lambda: macros.macro_delete(macro=macro, user=user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MacroApplyApi(APIView):
    """Apply the macro to a conversation the operator may see; each action's outcome."""

    @extend_schema(request=ApplyInputSerializer, responses=ApplyOutputSerializer)
    def post(self, request, macro_id: int):
        macro = _macro_or_404(request, macro_id)
        data = ApplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = conversation_or_404(request, data.validated_data["conversation"])
        outcomes = macros.macro_apply(
            macro=macro, conversation=conversation, operator=current_operator(request)
        )
        conversation.refresh_from_db()
        return Response(
            ApplyOutputSerializer({"conversation": conversation, "actions": outcomes}).data
        )
