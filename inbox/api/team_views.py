"""REST API: teams and operators."""

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from inbox import people, selectors
from inbox.api import serializers as s
from inbox.api.permissions import IsAdminOrReadOnly
from inbox.audit.models import AuditAction
from inbox.audit.records import audit_actor, audit_record, changed_keys, ids
from inbox.models import Team, User


def _team_state(team: Team) -> dict:
    return {
        "name": team.name,
        "auto_assign": team.auto_assign,
        "auto_assign_limit": team.auto_assign_limit,
        "members": ids(team.members.all()),
    }


def _team_audit(request, action: AuditAction, team_id: int, details: dict) -> None:
    audit_record(
        action=action,
        actor=audit_actor(request),
        target_type="team",
        target_id=team_id,
        details=details,
    )


class TeamListApi(generics.ListCreateAPIView):
    serializer_class = s.TeamSerializer
    permission_classes = [IsAdminOrReadOnly]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.teams_with_members()

    @transaction.atomic
    def perform_create(self, serializer):
        team = serializer.save()
        _team_audit(self.request, AuditAction.TEAM_CREATED, team.pk, _team_state(team))


class TeamDetailApi(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.TeamSerializer
    permission_classes = [IsAdminOrReadOnly]
    lookup_url_kwarg = "team_id"

    def get_queryset(self):
        return selectors.teams_with_members()

    @transaction.atomic
    def perform_update(self, serializer):
        before = _team_state(serializer.instance)
        team = serializer.save()
        after = _team_state(Team.objects.get(pk=team.pk))
        changed = changed_keys(before, after)
        if changed:
            details: dict = {"name": team.name, "changed": changed}
            if "members" in changed:
                details["members"] = {
                    "added": sorted(set(after["members"]) - set(before["members"])),
                    "removed": sorted(set(before["members"]) - set(after["members"])),
                }
            _team_audit(self.request, AuditAction.TEAM_CHANGED, team.pk, details)

    @transaction.atomic
    def perform_destroy(self, instance):
        details = _team_state(instance)
        team_id = instance.pk
        instance.delete()
        _team_audit(self.request, AuditAction.TEAM_DELETED, team_id, details)


class OperatorListApi(generics.ListAPIView):
    serializer_class = s.OperatorOutputSerializer
    permission_classes = [IsAdminOrReadOnly]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.operators_list()

    @extend_schema(request=s.OperatorInputSerializer, responses={201: s.OperatorOutputSerializer})
    def post(self, request):
        data = s.OperatorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = people.operator_create(**data.validated_data, actor=audit_actor(request))
        except (people.OperatorInvalid, IntegrityError) as error:
            raise ValidationError({getattr(error, "field", "username"): [str(error)]}) from error
        return Response(s.OperatorOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class OperatorDetailApi(generics.RetrieveAPIView):
    serializer_class = s.OperatorOutputSerializer
    permission_classes = [IsAdminOrReadOnly]
    lookup_url_kwarg = "operator_id"

    def get_queryset(self):
        return selectors.operators_list()

    @extend_schema(request=s.OperatorUpdateInputSerializer, responses=s.OperatorOutputSerializer)
    def patch(self, request, operator_id: int):
        # Also a deactivated operator, to activate them again.
        operator = get_object_or_404(User, pk=operator_id)
        data = s.OperatorUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if operator.pk == request.user.pk and data.validated_data.get("is_active") is False:
            raise ValidationError({"is_active": [gettext("you cannot deactivate yourself")]})
        people.operator_update(operator=operator, actor=audit_actor(request), **data.validated_data)
        operator = User.objects.prefetch_related("teams").get(pk=operator.pk)
        return Response(s.OperatorOutputSerializer(operator).data)
