"""Responses whose JSON was written as text elsewhere (by PostgreSQL: inbox.json_rows),
with the bytes the API's JSON renderer would give for the same data."""

import json

from django.http import HttpResponse
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request


def accepts_json(request: Request) -> bool:
    """Whether content negotiation chose JSON (not the browsable API's HTML)."""
    return isinstance(getattr(request, "accepted_renderer", None), JSONRenderer)


def json_text_response(text: str) -> HttpResponse:
    # As the renderer does: the two line separators that JavaScript strings cannot hold
    # unescaped.
    body = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return HttpResponse(body.encode(), content_type="application/json")


def _link(url: str | None) -> str:
    return json.dumps(url, ensure_ascii=False)


def json_page_response(paginator: CursorPagination, rows_json: list[str]) -> HttpResponse:
    """The paginator's envelope (`next`, `previous`, `results`) around rows already
    written as JSON, once the paginator has paged them."""
    return json_text_response(
        f'{{"next":{_link(paginator.get_next_link())},'
        f'"previous":{_link(paginator.get_previous_link())},'
        f'"results":[{",".join(rows_json)}]}}'
    )
