"""What the REST API's views share: the request's operator, a conversation they may see
(or 404), services' refusals as 400s, and lists read as rows rather than models."""

from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.utils.translation import gettext
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from inbox import labels, selectors, services
from inbox.api import serializers as s
from inbox.api.json_text import accepts_json, json_page_response
from inbox.json_rows import JsonRows
from inbox.models import Conversation, Label, Team, User


def current_operator(request: Request) -> User:
    # Every view here requires authentication, so the user is one of ours, loaded for
    # this request.
    return selectors.request_scoped(cast(User, request.user))


def conversation_or_404(request: Request, conversation_id: int) -> Conversation:
    try:
        return selectors.conversation_get_for_user(
            user=current_operator(request), conversation_id=conversation_id
        )
    except Conversation.DoesNotExist:
        raise NotFound(gettext("No such conversation.")) from None


def conversation_action(action):
    try:
        return action()
    except services.ConversationActionInvalid as error:
        raise ValidationError({"non_field_errors": [str(error)]}) from error


def conversation_response(conversation: Conversation) -> Response:
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


def get_or_invalid(queryset, pk: int, field: str):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError(
            {field: [gettext("no %(field)s with id %(id)s") % {"field": field, "id": pk}]}
        )
    return found


def assignment_or_invalid(values: Mapping[str, Any]) -> dict[str, Any]:
    """The `operator` and/or `team` that `values` name by id (None takes it away), for
    conversation_assign; a 400 for an id that is no active operator, or no team."""
    changes: dict[str, Any] = {}
    if "operator" in values:
        operator_id = values["operator"]
        changes["operator"] = (
            None
            if operator_id is None
            else get_or_invalid(User.objects.filter(is_active=True), operator_id, "operator")
        )
    if "team" in values:
        team_id = values["team"]
        changes["team"] = (
            None if team_id is None else get_or_invalid(Team.objects.all(), team_id, "team")
        )
    return changes


def labels_or_invalid(label_ids: Iterable[int]) -> list[Label]:
    """The labels of these ids, or a 400 naming each id that is no label."""
    wanted_ids = set(label_ids)
    found = list(selectors.label_list().filter(pk__in=wanted_ids))
    missing = wanted_ids - {label.pk for label in found}
    if missing:
        raise ValidationError(
            {"labels": [gettext("no label with id %(id)s") % {"id": pk} for pk in sorted(missing)]}
        )
    return found


def label_action(action):
    try:
        return action()
    except labels.LabelInvalid as error:
        raise ValidationError({"non_field_errors": [str(error)]}) from error
