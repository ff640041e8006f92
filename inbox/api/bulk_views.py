"""REST API: one action on many conversations (`conversations/bulk/`)."""

from django.utils.translation import ngettext
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import selectors, services
from inbox.api.base import assignment_or_invalid, current_operator, labels_or_invalid
from inbox.api.bulk_serializers import BulkActionInputSerializer, BulkActionOutputSerializer
from inbox.api.conversation_views import conversation_filters_from
from inbox.models import User


class ConversationBulkApi(APIView):
    @extend_schema(
        request=BulkActionInputSerializer,
        responses=BulkActionOutputSerializer,
        description=(
            "Assign, label, unlabel, resolve, snooze or reopen several conversations in one "
            "call. Each is checked and changed on its own, as by its single action, and "
            'reported in `results` (`{"id", "ok", "error"}`), in the order given.'
        ),
    )
    def post(self, request):
        user = current_operator(request)
        data = BulkActionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        results = services.conversations_bulk_act(
            user=user,
            conversation_ids=self._conversation_ids(user, values),
            action=values["action"],
            parameters=self._parameters(values),
        )
        return Response(
            {
                "results": [
                    {
                        "id": result.conversation_id,
                        "ok": result.is_done,
                        "error": result.error or None,
                    }
                    for result in results
                ]
            }
        )

    def _conversation_ids(self, user: User, values: dict) -> list[int]:
        if "ids" in values:
            return values["ids"]
        limit = services.BULK_ACTION_MAX_CONVERSATIONS
        ids = selectors.conversation_ids_for_user(
            user=user, filters=conversation_filters_from(values["filter"]), limit=limit + 1
        )
        if len(ids) > limit:
            raise ValidationError(
                {
                    "filter": [
                        ngettext(
                            "more than %(count)s conversation matches: narrow the filter",
                            "more than %(count)s conversations match: narrow the filter",
                            limit,
                        )
                        % {"count": limit}
                    ]
                }
            )
        return ids

    def _parameters(self, values: dict) -> services.BulkActionParameters:
        changes = assignment_or_invalid(values)
        if "labels" in values:
            changes["labels"] = labels_or_invalid(values["labels"])
        if "until" in values:
            changes["until"] = values["until"]
        return services.BulkActionParameters(**changes)
