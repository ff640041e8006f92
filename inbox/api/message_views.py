"""REST API: a conversation's messages, replying (once per `Idempotency-Key`) and sending
again a reply that failed or may not have been delivered."""

import hashlib
import json
from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import selectors, services
from inbox.api import serializers as s
from inbox.api.base import RowListApi, conversation_action, conversation_or_404, current_operator
from inbox.api.pagination import ChronologicalCursorPagination
from inbox.attachments import AttachmentRejected
from inbox.models import Conversation
from inbox.representations import message_row_representation

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 255


class IdempotencyKeyReusedError(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            gettext(
                "This Idempotency-Key was already used for a different reply; "
                "use a new key for each reply."
            )
        )


def idempotency_key(request) -> str | None:
    """The request's Idempotency-Key, None without one; 400 when it is not one."""
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not all(
        " " <= character <= "~" for character in key
    ):
        raise ValidationError(
            {
                IDEMPOTENCY_KEY_HEADER: [
                    gettext("An Idempotency-Key is 1 to 255 printable ASCII characters.")
                ]
            }
        )
    return key


def reply_request_hash(
    *, conversation_id: int, body: str, is_private: bool, files: Sequence[UploadedFile]
) -> str:
    """What a reply asks for, in one hash: a key given again must come with the same."""
    digest = hashlib.sha256()
    digest.update(json.dumps([conversation_id, body, is_private]).encode())
    for upload in files:
        digest.update(json.dumps([upload.name, upload.size]).encode())
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
    return digest.hexdigest()


def json_safe(data) -> dict:
    """A serializer's output as plain JSON values, as the key's stored answer keeps it."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


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
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=(
                    "Any unique string up to 255 printable ASCII characters (a UUID, say), "
                    "one per reply. The same key from the same operator within 24 hours "
                    "answers the first request again (same status and body, with the "
                    "header `Idempotent-Replayed: true`) and sends nothing new; the same "
                    "key with another body, files or conversation is refused with 422 "
                    "`idempotency_key_reused`."
                ),
            )
        ],
        responses={201: s.MessageOutputSerializer, 422: s.ErrorSerializer},
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
        operator = current_operator(request)
        body = data.validated_data.get("body", "")
        is_private = data.validated_data["private"]
        files = data.validated_data.get("files", [])

        def reply() -> services.ReplyAnswer:
            try:
                message = conversation_action(
                    lambda: services.message_reply(
                        conversation=conversation,
                        author=operator,
                        body=body,
                        is_private=is_private,
                        files=files,
                    )
                )
            except AttachmentRejected as error:
                raise ValidationError({"files": [str(error)]}) from error
            return services.ReplyAnswer(
                status_code=status.HTTP_201_CREATED,
                body=json_safe(s.MessageOutputSerializer(message).data),
                message_id=message.pk,
            )

        key = idempotency_key(request)
        if key is None:
            answer = reply()
        else:
            try:
                answer = services.message_reply_once(
                    operator=operator,
                    key=key,
                    request_hash=reply_request_hash(
                        conversation_id=conversation.pk,
                        body=body,
                        is_private=is_private,
                        files=files,
                    ),
                    reply=reply,
                )
            except services.IdempotencyKeyReused:
                raise IdempotencyKeyReusedError() from None
        response = Response(answer.body, status=answer.status_code)
        if answer.is_replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class MessageRetryApi(APIView):
    @extend_schema(
        request=None,
        responses=s.MessageOutputSerializer,
        description=(
            "Sends again a reply whose status is `failed`, or `unknown` (its send was cut "
            "off on a platform that cannot tell whether the customer got it: the operator "
            "decides). Parts of a several-part reply known to have gone out are not repeated."
        ),
    )
    def post(self, request, conversation_id: int, message_id: int):
        conversation = conversation_or_404(request, conversation_id)
        message = get_object_or_404(
            selectors.message_list(conversation=conversation), pk=message_id
        )
        conversation_action(lambda: services.message_retry_delivery(message=message))
        return Response(s.MessageOutputSerializer(message).data)
