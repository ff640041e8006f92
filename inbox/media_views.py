"""Attachment files: served only to signed-in people who may see their conversation."""

from django.http import FileResponse, Http404
from rest_framework.request import Request
from rest_framework.views import APIView

from inbox import selectors
from inbox.api.views import current_operator


class AttachmentFileApi(APIView):
    # Not part of the OpenAPI schema: attachment `url`s point here.
    schema = None

    def get(self, request: Request, path: str) -> FileResponse:
        attachment = selectors.attachment_for_user(user=current_operator(request), file_name=path)
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
