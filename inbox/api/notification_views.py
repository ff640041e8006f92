"""`notifications/`: the signed-in operator's notifications, and marking them read."""

from typing import cast

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.models import NotificationKind, User
from inbox.notifications.representation import notification_json
from inbox.notifications.selectors import notifications_recent_for, notifications_unread_count
from inbox.notifications.services import notifications_mark_read
from inbox.visibility import request_scoped


class NotificationActorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    conversation = serializers.IntegerField()
    message = serializers.IntegerField(allow_null=True, help_text="The note that mentions them")
    actor = NotificationActorSerializer(allow_null=True, help_text="Who did it; null: a rule")
    excerpt = serializers.CharField(help_text="The start of the note")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListSerializer(serializers.Serializer):
    unread = serializers.IntegerField()
    results = NotificationSerializer(many=True, help_text="The latest 50, newest first")


class MarkReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
    )
    all = serializers.BooleanField(required=False, help_text="Mark every one read")

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError(gettext("give ids or all: true"))
        return attrs


class MarkReadOutputSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class NotificationListApi(APIView):
    @extend_schema(responses=NotificationListSerializer)
    def get(self, request: Request) -> Response:
        user = request_scoped(cast(User, request.user))
        return Response(
            {
                "unread": notifications_unread_count(user),
                "results": [notification_json(item) for item in notifications_recent_for(user)],
            }
        )


class NotificationReadApi(APIView):
    @extend_schema(request=MarkReadInputSerializer, responses=MarkReadOutputSerializer)
    def post(self, request: Request) -> Response:
        data = MarkReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = None if data.validated_data.get("all") else data.validated_data["ids"]
        unread = notifications_mark_read(user=cast(User, request.user), ids=ids)
        return Response({"unread": unread})
