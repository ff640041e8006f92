"""REST API: conversations, their actions (assign, resolve, reopen, snooze, labels) and
their events."""

from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import labels, selectors, services
from inbox.api import serializers as s
from inbox.api.base import (
    RowListApi,
    assignment_or_invalid,
    conversation_action,
    conversation_or_404,
    conversation_response,
    current_operator,
    label_action,
    labels_or_invalid,
)
from inbox.api.json_text import accepts_json, json_text_response
from inbox.api.pagination import ChronologicalCursorPagination, ConversationCursorPagination
from inbox.models import Conversation
from inbox.representations import conversation_row_representation


class ConversationListApi(RowListApi):
    serializer_class = s.ConversationOutputSerializer
    pagination_class = ConversationCursorPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["open", "pending", "snoozed", "resolved"]),
            OpenApiParameter("assignee", str, description="me, none or an operator id"),
            OpenApiParameter("team", int),
            OpenApiParameter("channel", int),
            OpenApiParameter("customer", int),
            OpenApiParameter("label", int, description="only conversations carrying this label"),
            OpenApiParameter(
                "sla",
                str,
                enum=["breached", "due_soon"],
                description=(
                    "breached: an SLA target was missed; due_soon: a target not yet missed is "
                    "due within SLA_DUE_SOON_MINUTES"
                ),
            ),
            OpenApiParameter(
                "q",
                str,
                description=(
                    "customer name, email, phone or identity, subject, or message text "
                    "(each word as the beginning of a word, or in another form of a Russian "
                    "or English word)"
                ),
            ),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def json_rows(self):
        return selectors.conversation_json_rows_for_user(
            user=current_operator(self.request), filters=self._filters()
        )

    def complete(self, rows):
        return selectors.conversation_rows_complete(rows)

    def represent(self, row):
        return conversation_row_representation(row)

    def get_queryset(self):
        return selectors.conversation_rows_for_user(
            user=current_operator(self.request), filters=self._filters()
        )

    def _filters(self) -> selectors.ConversationFilters:
        params = self.request.query_params
        data = s.conversation_filters_if_plainly_valid(params)
        if data is None:
            filters = s.ConversationFilterSerializer(data=params)
            filters.is_valid(raise_exception=True)
            data = filters.validated_data
        return conversation_filters_from(data)


def conversation_filters_from(data: Mapping[str, Any]) -> selectors.ConversationFilters:
    """The list's filters from what ConversationFilterSerializer validated."""
    return selectors.ConversationFilters(
        status=data.get("status", ""),
        assignee=data.get("assignee", ""),
        team=data.get("team"),
        channel=data.get("channel"),
        customer=data.get("customer"),
        label=data.get("label"),
        query=data.get("q", ""),
        sla=data.get("sla", ""),
    )


class ConversationDetailApi(APIView):
    @extend_schema(responses=s.ConversationOutputSerializer)
    def get(self, request, conversation_id: int):
        if connection.vendor == "postgresql" and accepts_json(request):
            text = selectors.conversation_json_for_user(
                user=current_operator(request), conversation_id=conversation_id
            )
            if text is None:
                raise NotFound(gettext("No such conversation."))
            return json_text_response(text)
        try:
            row = selectors.conversation_row_for_user(
                user=current_operator(request), conversation_id=conversation_id
            )
        except Conversation.DoesNotExist:
            raise NotFound(gettext("No such conversation.")) from None
        return Response(conversation_row_representation(row))

    @extend_schema(
        request=s.ConversationUpdateInputSerializer, responses=s.ConversationOutputSerializer
    )
    def patch(self, request, conversation_id: int):
        conversation = conversation_or_404(request, conversation_id)
        data = s.ConversationUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation_action(
            lambda: services.conversation_set_priority(
                conversation=conversation,
                priority=data.validated_data["priority"],
                actor=current_operator(request),
            )
        )
        return conversation_response(conversation)


class ConversationAssignApi(APIView):
    @extend_schema(request=s.AssignInputSerializer, responses=s.ConversationOutputSerializer)
    def post(self, request, conversation_id: int):
        conversation = conversation_or_404(request, conversation_id)
        data = s.AssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = assignment_or_invalid(data.validated_data)
        conversation_action(
            lambda: services.conversation_assign(
                conversation=conversation, actor=current_operator(request), **changes
            )
        )
        return conversation_response(conversation)


class ConversationResolveApi(APIView):
    @extend_schema(request=None, responses=s.ConversationOutputSerializer)
    def post(self, request, conversation_id: int):
        conversation = conversation_or_404(request, conversation_id)
        conversation_action(
            lambda: services.conversation_resolve(
                conversation=conversation, resolved_by=current_operator(request)
            )
        )
        return conversation_response(conversation)


class ConversationReopenApi(APIView):
    @extend_schema(request=None, responses=s.ConversationOutputSerializer)
    def post(self, request, conversation_id: int):
        conversation = conversation_or_404(request, conversation_id)
        conversation_action(
            lambda: services.conversation_reopen(
                conversation=conversation, actor=current_operator(request)
            )
        )
        return conversation_response(conversation)


class ConversationSnoozeApi(APIView):
    @extend_schema(request=s.SnoozeInputSerializer, responses=s.ConversationOutputSerializer)
    def post(self, request, conversation_id: int):
        conversation = conversation_or_404(request, conversation_id)
        data = s.SnoozeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation_action(
            lambda: services.conversation_snooze(
                conversation=conversation,
                until=data.validated_data["until"],
                actor=current_operator(request),
            )
        )
        return conversation_response(conversation)


class ConversationLabelsApi(APIView):
    @extend_schema(
        request=s.ConversationLabelsInputSerializer,
        responses=s.ConversationOutputSerializer,
        description="Set exactly these labels on the conversation (an empty list removes all).",
    )
    def post(self, request, conversation_id: int):
        conversation = conversation_or_404(request, conversation_id)
        data = s.ConversationLabelsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = labels_or_invalid(data.validated_data["labels"])
        label_action(
            lambda: labels.conversation_labels_set(
                conversation=conversation, labels=wanted, actor=current_operator(request)
            )
        )
        return conversation_response(conversation)


class ConversationEventListApi(generics.ListAPIView):
    """What happened to the conversation besides messages, oldest first."""

    serializer_class = s.ConversationEventOutputSerializer
    pagination_class = ChronologicalCursorPagination
    filter_backends: list = []

    def get_queryset(self):
        conversation = conversation_or_404(self.request, self.kwargs["conversation_id"])
        return selectors.conversation_event_list(conversation=conversation)
