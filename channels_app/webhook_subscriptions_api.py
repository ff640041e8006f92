"""REST API: outgoing webhook subscriptions, their delivery log, a test event and
redelivery, for admins."""

import json
from typing import Any

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.webhook_subscriptions import (
    MAX_SECRET_LENGTH,
    SubscriptionInvalid,
    webhook_subscription_delete,
    webhook_subscription_save,
)
from inbox.api.pagination import CreatedCursorPagination
from inbox.api.permissions import IsAdmin
from inbox.outgoing_webhooks.deliveries import webhook_delivery_redeliver, webhook_test_event_send
from inbox.outgoing_webhooks.emitting import EVENTS
from inbox.outgoing_webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENTS)), max_length=len(EVENTS)
    )
    secret = serializers.CharField(
        write_only=True,
        max_length=MAX_SECRET_LENGTH,
        required=False,
        help_text="Signs every delivery (X-Switchboard-Signature); required when creating, "
        "never shown again. Left out, the saved one stays.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class WebhookOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    active = serializers.BooleanField(source="is_active")
    failures_in_a_row = serializers.IntegerField(
        help_text="Failed attempts since the last delivered one."
    )
    failing_since = serializers.DateTimeField(allow_null=True)
    disabled_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was switched off for failing too long."
    )
    disabled_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookAttemptOutputSerializer(serializers.Serializer):
    attempted_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    response_status = serializers.IntegerField(
        allow_null=True, help_text="The receiver's HTTP status; null when none came."
    )
    response_body = serializers.CharField(help_text="The first 1,024 bytes of the answer.")
    error = serializers.CharField(help_text="Why no answer came, if none did.")
    success = serializers.BooleanField(source="is_success")


class WebhookDeliveryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        source="delivery_id", help_text="X-Switchboard-Delivery: the same on every retry."
    )
    event = serializers.CharField()
    event_id = serializers.UUIDField(help_text="The payload's `id`.")
    status = serializers.CharField(help_text="pending, delivered or failed")
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.SerializerMethodField()
    attempts = WebhookAttemptOutputSerializer(many=True)

    def get_payload(self, delivery: WebhookDelivery) -> dict[str, Any]:
        return json.loads(delivery.body)


def _saved(request, subscription: WebhookSubscription | None, *, partial: bool) -> Response:
    data = WebhookInputSerializer(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    try:
        saved = webhook_subscription_save(
            subscription=subscription, values=dict(data.validated_data)
        )
    except SubscriptionInvalid as error:
        raise ValidationError({error.field: [str(error)]}) from error
    return Response(
        WebhookOutputSerializer(saved).data,
        status=status.HTTP_201_CREATED if subscription is None else status.HTTP_200_OK,
    )


class WebhookListApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=WebhookOutputSerializer(many=True))
    def get(self, request):
        subscriptions = WebhookSubscription.objects.order_by("id")
        return Response(WebhookOutputSerializer(subscriptions, many=True).data)

    @extend_schema(request=WebhookInputSerializer, responses={201: WebhookOutputSerializer})
    def post(self, request):
        return _saved(request, None, partial=False)


class WebhookDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=WebhookOutputSerializer)
    def get(self, request, webhook_id: int):
        subscription = get_object_or_404(WebhookSubscription, pk=webhook_id)
        return Response(WebhookOutputSerializer(subscription).data)

    @extend_schema(request=WebhookInputSerializer, responses=WebhookOutputSerializer)
    def put(self, request, webhook_id: int):
        return _saved(request, get_object_or_404(WebhookSubscription, pk=webhook_id), partial=False)

    @extend_schema(request=WebhookInputSerializer, responses=WebhookOutputSerializer)
    def patch(self, request, webhook_id: int):
        return _saved(request, get_object_or_404(WebhookSubscription, pk=webhook_id), partial=True)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, webhook_id: int):
        subscription = get_object_or_404(WebhookSubscription, pk=webhook_id)
        webhook_subscription_delete(subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(ListAPIView):
    """The subscription's deliveries, newest first, each with its attempts."""

    permission_classes = [IsAdmin]
    serializer_class = WebhookDeliveryOutputSerializer
    pagination_class = CreatedCursorPagination
    # What the schema is generated from; requests read get_queryset().
    queryset = WebhookDelivery.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        subscription = get_object_or_404(WebhookSubscription, pk=self.kwargs["webhook_id"])
        return WebhookDelivery.objects.filter(subscription=subscription).prefetch_related(
            Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("id"))
        )


class WebhookTestApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={202: WebhookDeliveryOutputSerializer})
    def post(self, request, webhook_id: int):
        """Send a `webhook.test` event to this subscription now."""
        subscription = get_object_or_404(WebhookSubscription, pk=webhook_id)
        if not subscription.is_active:
            raise ValidationError({"active": [_inactive_message()]})
        delivery = webhook_test_event_send(subscription=subscription)
        return Response(
            WebhookDeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )


class WebhookRedeliverApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={202: WebhookDeliveryOutputSerializer})
    def post(self, request, webhook_id: int, delivery_id):
        """Send this delivery again now (same body and delivery id), with its retries."""
        delivery = get_object_or_404(
            WebhookDelivery.objects.select_related("subscription"),
            subscription_id=webhook_id,
            delivery_id=delivery_id,
        )
        if not delivery.subscription.is_active:
            raise ValidationError({"active": [_inactive_message()]})
        delivery = webhook_delivery_redeliver(delivery=delivery)
        return Response(
            WebhookDeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )


def _inactive_message() -> str:
    return gettext("This webhook is switched off: switch it on first.")
