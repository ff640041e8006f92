"""REST API: every conversation of a period as a file (`conversations/export/`), streamed:
CSV or JSON lines, one row per conversation, in the memory of one chunk of rows whatever
their number."""

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from inbox import selectors
from inbox.api.base import current_operator
from inbox.api.bulk_serializers import ConversationExportQuerySerializer
from inbox.api.conversation_views import conversation_filters_from
from inbox.api.permissions import IsSupervisor
from inbox.api.report_views import REPORT_PERIOD_PARAMETERS, report_period

# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


class _JsonWhateverTheFormat(DefaultContentNegotiation):
    """`format` names the file's format here, not a renderer: errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def csv_safe_cell(value: Any) -> Any:
    """A value as a CSV cell that a spreadsheet shows as text rather than runs."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = "; ".join(value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv_parts(chunks: Iterable[list[dict[str, Any]]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(selectors.EXPORT_COLUMNS)
    for rows in chunks:
        for row in rows:
            writer.writerow([csv_safe_cell(row[column]) for column in selectors.EXPORT_COLUMNS])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    # The header alone when there is nothing to export.
    if buffer.tell():
        yield buffer.getvalue().encode()


def _json_lines_parts(chunks: Iterable[list[dict[str, Any]]]) -> Iterator[bytes]:
    for rows in chunks:
        yield "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def _next_part(parts: Iterator[bytes]) -> bytes | None:
    return next(parts, None)


async def _read_in_thread(parts: Iterator[bytes]) -> AsyncIterator[bytes]:
    # Under ASGI a synchronous iterator would be read whole into memory before the first
    # byte goes out; each part is read (one chunk of rows from the database) as it is sent.
    read_next = sync_to_async(_next_part, thread_sensitive=True)
    while (part := await read_next(parts)) is not None:
        yield part


class ConversationExportApi(APIView):
    permission_classes = [IsSupervisor]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _JsonWhateverTheFormat

    @extend_schema(
        parameters=[
            *REPORT_PERIOD_PARAMETERS,
            OpenApiParameter("format", str, enum=["csv", "jsonl"], description="default csv"),
            OpenApiParameter("status", str, enum=["open", "pending", "snoozed", "resolved"]),
            OpenApiParameter("assignee", str, description="me, none or an operator id"),
            OpenApiParameter("team", int),
            OpenApiParameter("channel", int),
            OpenApiParameter("customer", int),
            OpenApiParameter("label", int),
            OpenApiParameter("sla", str, enum=["breached", "due_soon"]),
            OpenApiParameter("q", str),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR),
        },
        description=(
            "The conversations created in the period that the list's filters keep, one row "
            "each, oldest first, streamed: " + ", ".join(selectors.EXPORT_COLUMNS) + ". "
            "CSV cells that a spreadsheet would run as a formula start with an apostrophe."
        ),
    )
    def get(self, request):
        query = ConversationExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        start, end = report_period(values)
        chunks = selectors.conversation_export_chunks(
            user=current_operator(request),
            filters=conversation_filters_from(values),
            period=selectors.ExportPeriod(start=start, end=end),
        )
        file_format = values["format"]
        parts = _csv_parts(chunks) if file_format == "csv" else _json_lines_parts(chunks)
        is_asgi = isinstance(request._request, ASGIRequest)
        response = StreamingHttpResponse(
            _read_in_thread(parts) if is_asgi else parts, content_type=_MEDIA_TYPES[file_format]
        )
        file_name = f"conversations-{start:%Y%m%d}-{end:%Y%m%d}.{file_format}"
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response
