"""REST API: teams and operators."""

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from inbox import people, selectors
from inbox.api import serializers as s
from inbox.api.permissions import IsAdminOrReadOnly


class TeamListApi(generics.ListCreateAPIView):
    serializer_class = s.TeamSerializer
    permission_classes = [IsAdminOrReadOnly]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.teams_with_members()


class TeamDetailApi(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.TeamSerializer
    permission_classes = [IsAdminOrReadOnly]
    lookup_url_kwarg = "team_id"

    def get_queryset(self):
        return selectors.teams_with_members()


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
            user = people.operator_create(**data.validated_data)
        except (people.OperatorInvalid, IntegrityError) as error:
            raise ValidationError({getattr(error, "field", "username"): [str(error)]}) from error
        return Response(s.OperatorOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class OperatorDetailApi(generics.RetrieveAPIView):
    serializer_class = s.OperatorOutputSerializer
    lookup_url_kwarg = "operator_id"

    def get_queryset(self):
        return selectors.operators_list()
