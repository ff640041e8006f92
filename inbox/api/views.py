"""REST API views: parse, authorize, call one service or selector, render."""

from typing import Any, cast

from django.db import IntegrityError, connection
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer, CustomerMerge
from customers.services import CustomerMergeError
from inbox import labels, people, selectors, services
from inbox.api import serializers as s
from inbox.api.json_text import accepts_json, json_page_response, json_text_response
from inbox.api.pagination import ChronologicalCursorPagination, ConversationCursorPagination
from inbox.api.permissions import IsAdminOrReadOnly, IsSupervisorOrReadOnly
from inbox.attachments import AttachmentRejected
from inbox.json_rows import JsonRows
from inbox.models import CannedResponse, Conversation, Label, Team, User
from inbox.representations import (
    conversation_row_representation,
    customer_row_representation,
    message_row_representation,
)


def current_operator(request: Request) -> User:
    # Every view here requires authentication, so the user is one of ours, loaded for
    # this request.
    return selectors.request_scoped(cast(User, request.user))


def _conversation_or_404(request: Request, conversation_id: int) -> Conversation:
    try:
        return selectors.conversation_get_for_user(
            user=current_operator(request), conversation_id=conversation_id
        )
    except Conversation.DoesNotExist:
        raise NotFound("No such conversation.") from None


def _run(action):
    try:
        return action()
    except services.ConversationActionInvalid as error:
        raise ValidationError({"non_field_errors": [str(error)]}) from error


def _conversation_response(conversation: Conversation) -> Response:
    return Response(s.ConversationOutputSerializer(conversation).data)


class RowListApi(generics.ListAPIView):
    """A list read as rows rather than models (see inbox.selectors): `get_queryset` gives
    rows, `complete` adds what a page of them refers to, `represent` gives the shape."""

    # Where `json_rows` gives rows PostgreSQL wrote as JSON (inbox.json_rows), those are
    # paged instead and their text passed on as it is.

    filter_backends: list = []

    def json_rows(self) -> JsonRows | None:
        return None

    def complete(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return rows

    def represent(self, row: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def list(self, request, *args, **kwargs):
        json_rows = self.json_rows() if accepts_json(request) else None
        if json_rows is not None:
            # The cursor paginator pages JsonRows as it pages a queryset (see JsonRows).
            paginator = cast(CursorPagination, self.paginator)
            page: list[dict[str, Any]] = (
                paginator.paginate_queryset(json_rows, request, view=self) or []  # type: ignore[arg-type]
            )
            return json_page_response(paginator, [row["json"] for row in page])
        # Every list here is paginated, so there is always a page.
        rows = self.complete(self.paginate_queryset(self.get_queryset()) or [])
        return self.get_paginated_response([self.represent(row) for row in rows])


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
            OpenApiParameter("q", str, description="customer name/email, subject or message text"),
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
        return selectors.ConversationFilters(
            status=data.get("status", ""),
            assignee=data.get("assignee", ""),
            team=data.get("team"),
            channel=data.get("channel"),
            customer=data.get("customer"),
            label=data.get("label"),
            query=data.get("q", ""),
        )


class ConversationDetailApi(APIView):
    @extend_schema(responses=s.ConversationOutputSerializer)
    def get(self, request, conversation_id: int):
        if connection.vendor == "postgresql" and accepts_json(request):
            text = selectors.conversation_json_for_user(
                user=current_operator(request), conversation_id=conversation_id
            )
            if text is None:
                raise NotFound("No such conversation.")
            return json_text_response(text)
        try:
            row = selectors.conversation_row_for_user(
                user=current_operator(request), conversation_id=conversation_id
            )
        except Conversation.DoesNotExist:
            raise NotFound("No such conversation.") from None
        return Response(conversation_row_representation(row))

    @extend_schema(
        request=s.ConversationUpdateInputSerializer, responses=s.ConversationOutputSerializer
    )
    def patch(self, request, conversation_id: int):
        conversation = _conversation_or_404(request, conversation_id)
        data = s.ConversationUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _run(
            lambda: services.conversation_set_priority(
                conversation=conversation,
                priority=data.validated_data["priority"],
                actor=current_operator(request),
            )
        )
        return _conversation_response(conversation)


class ConversationAssignApi(APIView):
    @extend_schema(request=s.AssignInputSerializer, responses=s.ConversationOutputSerializer)
    def post(self, request, conversation_id: int):
        conversation = _conversation_or_404(request, conversation_id)
        data = s.AssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes: dict = {}
        if "operator" in data.validated_data:
            operator_id = data.validated_data["operator"]
            changes["operator"] = (
                None
                if operator_id is None
                else _get_or_invalid(User.objects.filter(is_active=True), operator_id, "operator")
            )
        if "team" in data.validated_data:
            team_id = data.validated_data["team"]
            changes["team"] = (
                None if team_id is None else _get_or_invalid(Team.objects.all(), team_id, "team")
            )
        _run(
            lambda: services.conversation_assign(
                conversation=conversation, actor=current_operator(request), **changes
            )
        )
        return _conversation_response(conversation)


def _get_or_invalid(queryset, pk: int, field: str):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: [f"no {field} with id {pk}"]})
    return found


class ConversationResolveApi(APIView):
    @extend_schema(request=None, responses=s.ConversationOutputSerializer)
    def post(self, request, conversation_id: int):
        conversation = _conversation_or_404(request, conversation_id)
        _run(
            lambda: services.conversation_resolve(
                conversation=conversation, resolved_by=current_operator(request)
            )
        )
        return _conversation_response(conversation)


class ConversationReopenApi(APIView):
    @extend_schema(request=None, responses=s.ConversationOutputSerializer)
    def post(self, request, conversation_id: int):
        conversation = _conversation_or_404(request, conversation_id)
        _run(
            lambda: services.conversation_reopen(
                conversation=conversation, actor=current_operator(request)
            )
        )
        return _conversation_response(conversation)


class ConversationSnoozeApi(APIView):
    @extend_schema(request=s.SnoozeInputSerializer, responses=s.ConversationOutputSerializer)
    def post(self, request, conversation_id: int):
        conversation = _conversation_or_404(request, conversation_id)
        data = s.SnoozeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _run(
            lambda: services.conversation_snooze(
                conversation=conversation,
                until=data.validated_data["until"],
                actor=current_operator(request),
            )
        )
        return _conversation_response(conversation)


def _label_run(action):
    try:
        return action()
    except labels.LabelInvalid as error:
        raise ValidationError({"non_field_errors": [str(error)]}) from error


class ConversationLabelsApi(APIView):
    @extend_schema(
        request=s.ConversationLabelsInputSerializer,
        responses=s.ConversationOutputSerializer,
        description="Set exactly these labels on the conversation (an empty list removes all).",
    )
    def post(self, request, conversation_id: int):
        conversation = _conversation_or_404(request, conversation_id)
        data = s.ConversationLabelsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted_ids = set(data.validated_data["labels"])
        wanted = list(selectors.label_list().filter(pk__in=wanted_ids))
        missing = wanted_ids - {label.pk for label in wanted}
        if missing:
            raise ValidationError({"labels": [f"no label with id {pk}" for pk in sorted(missing)]})
        _label_run(
            lambda: labels.conversation_labels_set(
                conversation=conversation, labels=wanted, actor=current_operator(request)
            )
        )
        return _conversation_response(conversation)


class LabelListApi(APIView):
    permission_classes = [IsSupervisorOrReadOnly]

    @extend_schema(responses=s.LabelOutputSerializer(many=True))
    def get(self, request):
        return Response(s.LabelOutputSerializer(selectors.label_list(), many=True).data)

    @extend_schema(request=s.LabelCreateInputSerializer, responses={201: s.LabelOutputSerializer})
    def post(self, request):
        data = s.LabelCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = _label_run(lambda: labels.label_create(**data.validated_data))
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
        label = _label_run(lambda: labels.label_update(label=label, **data.validated_data))
        return Response(s.LabelOutputSerializer(label).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, label_id: int):
        labels.label_delete(label=self._label(label_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListApi(RowListApi):
    serializer_class = s.MessageOutputSerializer
    pagination_class = ChronologicalCursorPagination

    def get_queryset(self):
        conversation_id = self.kwargs["conversation_id"]
        if not selectors.conversation_is_visible_to(
            user=current_operator(self.request), conversation_id=conversation_id
        ):
            raise NotFound("No such conversation.")
        return selectors.message_rows(conversation_id=conversation_id)

    def json_rows(self):
        try:
            return selectors.message_json_rows_for_user(
                user=current_operator(self.request), conversation_id=self.kwargs["conversation_id"]
            )
        except Conversation.DoesNotExist:
            raise NotFound("No such conversation.") from None

    def complete(self, rows):
        return selectors.message_rows_complete(rows)

    def represent(self, row):
        return message_row_representation(row)

    @extend_schema(
        request={
            "application/json": s.ReplyInputSerializer,
            "multipart/form-data": s.ReplyWithFilesInputSerializer,
        },
        responses={201: s.MessageOutputSerializer},
        description=(
            "JSON sends text only; multipart/form-data may add up to 10 `files` of at most "
            "25 MB each (executables are refused), and then `body` may be empty."
        ),
    )
    def post(self, request, conversation_id: int):
        conversation = _conversation_or_404(request, conversation_id)
        is_multipart = (request.content_type or "").startswith("multipart/")
        input_serializer = (
            s.ReplyWithFilesInputSerializer if is_multipart else s.ReplyInputSerializer
        )
        data = input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            message = _run(
                lambda: services.message_reply(
                    conversation=conversation,
                    author=current_operator(request),
                    body=data.validated_data.get("body", ""),
                    is_private=data.validated_data["private"],
                    files=data.validated_data.get("files", []),
                )
            )
        except AttachmentRejected as error:
            raise ValidationError({"files": [str(error)]}) from error
        return Response(s.MessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)


class ConversationEventListApi(generics.ListAPIView):
    """What happened to the conversation besides messages, oldest first."""

    serializer_class = s.ConversationEventOutputSerializer
    pagination_class = ChronologicalCursorPagination
    filter_backends: list = []

    def get_queryset(self):
        conversation = _conversation_or_404(self.request, self.kwargs["conversation_id"])
        return selectors.conversation_event_list(conversation=conversation)


class MessageRetryApi(APIView):
    @extend_schema(request=None, responses=s.MessageOutputSerializer)
    def post(self, request, conversation_id: int, message_id: int):
        conversation = _conversation_or_404(request, conversation_id)
        message = get_object_or_404(
            selectors.message_list(conversation=conversation), pk=message_id
        )
        _run(lambda: services.message_retry_delivery(message=message))
        return Response(s.MessageOutputSerializer(message).data)


class CustomerListApi(RowListApi):
    serializer_class = s.CustomerOutputSerializer

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="name, email, phone or any identity")]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def json_rows(self):
        return selectors.customer_json_rows_for_user(
            user=current_operator(self.request), query=self.request.query_params.get("q", "")
        )

    def get_queryset(self):
        return selectors.customer_rows_for_user(
            user=current_operator(self.request), query=self.request.query_params.get("q", "")
        )

    def complete(self, rows):
        return selectors.customer_rows_complete(rows)

    def represent(self, row):
        return customer_row_representation(row)


class CustomerDetailApi(APIView):
    def _render(self, request, customer: Customer) -> Response:
        timeline = selectors.customer_timeline(
            user=current_operator(request), customer_id=customer.pk
        )
        return Response(
            s.CustomerDetailOutputSerializer(customer, context={"timeline": timeline}).data
        )

    @extend_schema(responses=s.CustomerDetailOutputSerializer)
    def get(self, request, customer_id: int):
        customer = get_object_or_404(
            selectors.customers_visible_to(current_operator(request)).prefetch_related(
                "identities", "claims"
            ),
            pk=customer_id,
        )
        return self._render(request, customer)

    @extend_schema(
        request=s.CustomerUpdateInputSerializer, responses=s.CustomerDetailOutputSerializer
    )
    def patch(self, request, customer_id: int):
        customer = get_object_or_404(
            selectors.customers_visible_to(current_operator(request)), pk=customer_id
        )
        data = s.CustomerUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        for field, value in data.validated_data.items():
            setattr(customer, field, value)
        customer.save()
        return self._render(request, customer)


class CustomerMergeApi(APIView):
    @extend_schema(
        request=s.MergeInputSerializer,
        responses={201: s.MergeOutputSerializer},
        description="Merge the customer `other` into this one, which survives.",
    )
    def post(self, request, customer_id: int):
        data = s.MergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visible = selectors.customers_visible_to(current_operator(request))
        survivor = get_object_or_404(visible, pk=customer_id)
        merged = _get_or_invalid(visible, data.validated_data["other"], "other")
        try:
            merge = services.customer_merge_with_conversations(
                survivor=survivor, merged=merged, merged_by=current_operator(request)
            )
        except CustomerMergeError as error:
            raise ValidationError({"other": [str(error)]}) from error
        return Response(s.MergeOutputSerializer(merge).data, status=status.HTTP_201_CREATED)


class CustomerMergeUndoApi(APIView):
    @extend_schema(request=None, responses=s.MergeOutputSerializer)
    def post(self, request, merge_id: int):
        # Undoing needs sight of the profile that survived it.
        merge = get_object_or_404(
            CustomerMerge.objects.filter(
                survivor__in=selectors.customers_visible_to(current_operator(request))
            ),
            pk=merge_id,
        )
        try:
            merge = services.customer_merge_undo_with_conversations(
                merge=merge, undone_by=current_operator(request)
            )
        except CustomerMergeError as error:
            raise ValidationError({"non_field_errors": [str(error)]}) from error
        return Response(s.MergeOutputSerializer(merge).data)


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


class CannedResponseListApi(generics.ListCreateAPIView):
    serializer_class = s.CannedResponseSerializer
    filter_backends: list = []
    queryset = CannedResponse.objects.order_by("shortcut")

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)


class CannedResponseDetailApi(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.CannedResponseSerializer
    lookup_url_kwarg = "canned_response_id"
    queryset = CannedResponse.objects.all()
