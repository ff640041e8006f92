"""Attachment files: served to signed-in people who may see their conversation, and to
anyone holding an unexpired signed link (how platforms fetch the files we send)."""

from django.http import FileResponse, Http404
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from inbox import selectors
from inbox.api.base import current_operator
from inbox.attachments import attachment_link_is_valid


class AttachmentFileApi(APIView):
    # Not part of the OpenAPI schema: attachment `url`s point here.
    schema = None
    # Checked below: a valid signed link, or a signed-in user who may see the conversation.
    permission_classes = [AllowAny]

    def get(self, request: Request, path: str) -> FileResponse:
        signature = request.query_params.get("signature", "")
        if signature:
            is_signed = attachment_link_is_valid(
                file_name=path, expires=request.query_params.get("expires", ""), signature=signature
            )
            attachment = selectors.attachment_by_file_name(file_name=path) if is_signed else None
        elif request.user.is_authenticated:
            attachment = selectors.attachment_for_user(
                user=current_operator(request), file_name=path
            )
        else:
            self.permission_denied(request)
        if attachment is None:
            raise Http404
        response = FileResponse(
            attachment.file.open("rb"),
            content_type=attachment.content_type,
            as_attachment=not attachment.content_type.startswith("image/"),
            filename=attachment.filename,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
