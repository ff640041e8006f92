"""REST API: automation rules, their run logs and their trial on past conversations (admins)."""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from automation import dry_run, rules
from automation.conditions import RuleInvalid
from automation.models import AutomationRule
from automation.selectors import rule_runs_recent
from inbox.api.permissions import IsAdmin
from inbox.rule_events import Trigger


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    wait_minutes = serializers.IntegerField(allow_null=True)
    conditions = serializers.JSONField()
    actions = serializers.JSONField()
    is_active = serializers.BooleanField()
    position = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RuleInputSerializer(serializers.Serializer):
    """Checked further by automation.rules (the shapes in docs/automation.md)."""

    name = serializers.CharField(max_length=100)
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    wait_minutes = serializers.IntegerField(allow_null=True, required=False)
    conditions = serializers.JSONField(required=False)
    actions = serializers.JSONField()
    is_active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)


class RunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField(source="event_key")
    trigger = serializers.CharField()
    conversation = serializers.IntegerField(source="conversation_id", allow_null=True)
    outcomes = serializers.JSONField(help_text='[{"type", "done" | "error"}]')
    error = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReorderInputSerializer(serializers.Serializer):
    order = serializers.ListField(child=serializers.IntegerField(), max_length=1000)


class TryInputSerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=dry_run.MAX_LIMIT, default=dry_run.DEFAULT_LIMIT
    )


class TryOutputSerializer(serializers.Serializer):
    examined = serializers.IntegerField()
    matched = serializers.IntegerField()
    timed_out = serializers.IntegerField(help_text="text_regex took too long (no match)")
    sample = serializers.ListField(child=serializers.IntegerField(), help_text="conversation ids")


def _checked(action) -> Any:
    try:
        return action()
    except RuleInvalid as error:
        raise ValidationError({"detail": str(error)}) from error


def accepted_fields(request, serializer_class, *, partial: bool) -> dict[str, Any]:
    """The request's raw values of the fields the serializer accepted, not the
    serializer's: the services check their exact shapes."""
    data = serializer_class(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    # A form's missing checkbox reads as false to the serializer, and is not in the data.
    return {name: request.data[name] for name in data.validated_data if name in request.data}


def _fields(request, *, partial: bool) -> dict[str, Any]:
    return accepted_fields(request, RuleInputSerializer, partial=partial)


class RuleListApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=RuleOutputSerializer(many=True))
    def get(self, request):
        return Response(RuleOutputSerializer(AutomationRule.objects.all(), many=True).data)

    @extend_schema(request=RuleInputSerializer, responses={201: RuleOutputSerializer})
    def post(self, request):
        fields = _fields(request, partial=False)
        rule = _checked(lambda: rules.rule_create(fields=fields, created_by=request.user))
        return Response(RuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=RuleOutputSerializer)
    def get(self, request, rule_id: int):
        return Response(RuleOutputSerializer(get_object_or_404(AutomationRule, pk=rule_id)).data)

    @extend_schema(request=RuleInputSerializer, responses=RuleOutputSerializer)
    def patch(self, request, rule_id: int):
        rule = get_object_or_404(AutomationRule, pk=rule_id)
        fields = _fields(request, partial=True)
        rule = _checked(lambda: rules.rule_update(rule=rule, fields=fields))
        return Response(RuleOutputSerializer(rule).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, rule_id: int):
        rules.rule_delete(rule=get_object_or_404(AutomationRule, pk=rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleReorderApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=ReorderInputSerializer, responses=RuleOutputSerializer(many=True))
    def post(self, request):
        data = ReorderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ordered = _checked(lambda: rules.rules_reorder(rule_ids=data.validated_data["order"]))
        return Response(RuleOutputSerializer(ordered, many=True).data)


class RuleRunListApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=RunOutputSerializer(many=True))
    def get(self, request, rule_id: int):
        rule = get_object_or_404(AutomationRule, pk=rule_id)
        return Response(RunOutputSerializer(rule_runs_recent(rule=rule), many=True).data)


class RuleTryApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=TryInputSerializer, responses=TryOutputSerializer)
    def post(self, request, rule_id: int):
        rule = get_object_or_404(AutomationRule, pk=rule_id)
        data = TryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = dry_run.rule_try(rule=rule, limit=data.validated_data["limit"])
        return Response(TryOutputSerializer(outcome).data)
