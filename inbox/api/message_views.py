"""REST API: a conversation's messages, replying and retrying a failed delivery."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import selectors, services
from inbox.api import serializers as s
from inbox.api.base import RowListApi, conversation_action, conversation_or_404, current_operator
from inbox.api.pagination import ChronologicalCursorPagination
from inbox.attachments import AttachmentRejected
from inbox.models import Conversation
from inbox.representations import message_row_representation


class MessageListApi(RowListApi):
    serializer_class = s.MessageOutputSerializer
    pagination_class = ChronologicalCursorPagination

    def get_queryset(self):
        conversation_id = self.kwargs["conversation_id"]
        if not selectors.conversation_is_visible_to(
            user=current_operator(self.request), conversation_id=conversation_id
        ):
            raise NotFound(gettext("No such conversation."))
        return selectors.message_rows(conversation_id=conversation_id)

    def json_rows(self):
        try:
            return selectors.message_json_rows_for_user(
                user=current_operator(self.request), conversation_id=self.kwargs["conversation_id"]
            )
        except Conversation.DoesNotExist:
            raise NotFound(gettext("No such conversation.")) from None

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
        conversation = conversation_or_404(request, conversation_id)
        is_multipart = (request.content_type or "").startswith("multipart/")
        input_serializer = (
            s.ReplyWithFilesInputSerializer if is_multipart else s.ReplyInputSerializer
        )
        data = input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            message = conversation_action(
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


class MessageRetryApi(APIView):
    @extend_schema(request=None, responses=s.MessageOutputSerializer)
    def post(self, request, conversation_id: int, message_id: int):
        conversation = conversation_or_404(request, conversation_id)
        message = get_object_or_404(
            selectors.message_list(conversation=conversation), pk=message_id
        )
        conversation_action(lambda: services.message_retry_delivery(message=message))
        return Response(s.MessageOutputSerializer(message).data)
