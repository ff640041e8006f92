"""REST API: labels."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import labels, selectors
from inbox.api import serializers as s
from inbox.api.base import label_action
from inbox.api.permissions import IsSupervisorOrReadOnly
from inbox.models import Label


class LabelListApi(APIView):
    permission_classes = [IsSupervisorOrReadOnly]

    @extend_schema(responses=s.LabelOutputSerializer(many=True))
    def get(self, request):
        return Response(s.LabelOutputSerializer(selectors.label_list(), many=True).data)

    @extend_schema(request=s.LabelCreateInputSerializer, responses={201: s.LabelOutputSerializer})
    def post(self, request):
        data = s.LabelCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = label_action(lambda: labels.label_create(**data.validated_data))
        return Response(s.LabelOutputSerializer(label).data, status=status.HTTP_201_CREATED)


class LabelDetailApi(APIView):
    permission_classes = [IsSupervisorOrReadOnly]

    def _label(self, label_id: int) -> Label:
        return get_object_or_404(selectors.label_list(), pk=label_id)

    @extend_schema(responses=s.LabelOutputSerializer)
    def get(self, request, label_id: int):
        return Response(s.LabelOutputSerializer(self._label(label_id)).data)

    @extend_schema(request=s.LabelUpdateInputSerializer, responses=s.LabelOutputSerializer)
    def patch(self, request, label_id: int):
        label = self._label(label_id)
        data = s.LabelUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = label_action(lambda: labels.label_update(label=label, **data.validated_data))
        return Response(s.LabelOutputSerializer(label).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, label_id: int):
        labels.label_delete(label=self._label(label_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
