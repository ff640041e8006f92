"""Channels through the REST API (admins only). Secrets in `config` are write-only."""

from typing import cast

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app import services
from channels_app.adapters.base import ConfigInvalid
from channels_app.models import Channel
from channels_app.registry import adapter_class, supported_kinds
from inbox import survey_kinds
from inbox.api.permissions import IsAdmin
from inbox.api.texts import TextPerLanguageField
from inbox.audit.records import audit_actor
from inbox.models import Team


class ChannelOutputSerializer(serializers.ModelSerializer):
    webhook_url = serializers.SerializerMethodField()
    config = serializers.SerializerMethodField()
    secrets_set = serializers.SerializerMethodField(
        help_text="Names of the write-only settings that have a value."
    )
    secrets_error = serializers.CharField(
        read_only=True,
        help_text="Empty, or why the stored secrets cannot be read or why the platform "
        "last refused its token (set them again).",
    )
    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Channel
        fields = [
            "id",
            "kind",
            "name",
            "public_id",
            "webhook_url",
            "config",
            "secrets_set",
            "secrets_error",
            "csat",
            "is_active",
            "teams",
            "reopen_window_seconds",
            "created_at",
        ]

    def get_webhook_url(self, channel: Channel) -> str:
        return f"{settings.PUBLIC_BASE_URL}{channel.webhook_path}"

    def get_config(self, channel: Channel) -> dict:
        return dict(channel.config)

    def get_secrets_set(self, channel: Channel) -> list[str]:
        return sorted(channel.secrets)


class CsatSettingsSerializer(serializers.Serializer):
    """A channel's survey settings; the ones left out keep their value."""

    enabled = serializers.BooleanField(required=False)
    delay_seconds = serializers.IntegerField(
        min_value=0, max_value=30 * 24 * 3600, required=False, help_text="after resolving"
    )
    expiry_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    question = TextPerLanguageField(required=False)
    thank_you = TextPerLanguageField(required=False)
    language = serializers.ChoiceField(
        choices=["", *(code for code, _ in settings.LANGUAGES)],
        required=False,
        allow_blank=True,
        help_text='for customers whose own language is not known; "" follows config.language',
    )
    fatigue_days = serializers.IntegerField(
        min_value=0, max_value=365, required=False, help_text="no second survey within"
    )
    kind = serializers.ChoiceField(
        choices=list(survey_kinds.POST_CONTACT_KINDS),
        required=False,
        help_text="the question after a resolved conversation: csat (satisfaction, 1-5) or "
        "ces (effort, 1-7, 7 = very easy)",
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError(
                    {name: [gettext("unknown survey setting")] for name in unknown}
                )
        return super().to_internal_value(data)


class ChannelInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[])
    name = serializers.CharField(max_length=100)
    config = serializers.DictField(default=dict)
    csat = CsatSettingsSerializer(required=False)
    is_active = serializers.BooleanField(default=True)
    teams = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Team.objects.all(), required=False
    )
    reopen_window_seconds = serializers.IntegerField(min_value=0, required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind_field = cast(serializers.ChoiceField, self.fields["kind"])
        kind_field.choices = supported_kinds()


class ChannelUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    config = serializers.DictField(required=False)
    csat = CsatSettingsSerializer(required=False)
    is_active = serializers.BooleanField(required=False)
    teams = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Team.objects.all(), required=False
    )
    reopen_window_seconds = serializers.IntegerField(min_value=0, required=False, allow_null=True)


def _config_error(error: ConfigInvalid) -> ValidationError:
    return ValidationError({"config": error.errors})


class ChannelListApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=ChannelOutputSerializer(many=True))
    def get(self, request):
        channels = Channel.objects.prefetch_related("teams").order_by("id")
        return Response(ChannelOutputSerializer(channels, many=True).data)

    @extend_schema(request=ChannelInputSerializer, responses={201: ChannelOutputSerializer})
    def post(self, request):
        data = ChannelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        adapter_class(values["kind"])
        with transaction.atomic():
            try:
                channel = services.channel_create(
                    kind=values["kind"],
                    name=values["name"],
                    config=values["config"],
                    csat=values.get("csat"),
                    actor=audit_actor(request),
                )
            except ConfigInvalid as error:
                raise _config_error(error) from error
            channel.is_active = values["is_active"]
            channel.reopen_window_seconds = values.get("reopen_window_seconds")
            channel.save(update_fields=["is_active", "reopen_window_seconds"])
            if values.get("teams"):
                channel.teams.set(values["teams"])
        return Response(ChannelOutputSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=ChannelOutputSerializer)
    def get(self, request, channel_id: int):
        return Response(ChannelOutputSerializer(get_object_or_404(Channel, pk=channel_id)).data)

    @extend_schema(request=ChannelUpdateInputSerializer, responses=ChannelOutputSerializer)
    def patch(self, request, channel_id: int):
        channel = get_object_or_404(Channel, pk=channel_id)
        data = ChannelUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with transaction.atomic():
            before = services.channel_audit_state(channel)
            try:
                services.channel_update(
                    channel=channel,
                    name=values.get("name"),
                    config=values.get("config"),
                    csat=values.get("csat"),
                    is_active=values.get("is_active"),
                )
            except ConfigInvalid as error:
                raise _config_error(error) from error
            if "reopen_window_seconds" in values:
                channel.reopen_window_seconds = values["reopen_window_seconds"]
                channel.save(update_fields=["reopen_window_seconds"])
            if "teams" in values:
                channel.teams.set(values["teams"])
            services.channel_changes_record(
                channel=channel, before=before, actor=audit_actor(request)
            )
        return Response(ChannelOutputSerializer(channel).data)

    @extend_schema(responses={204: None})
    def delete(self, request, channel_id: int):
        services.channel_delete(
            channel=get_object_or_404(Channel, pk=channel_id), actor=audit_actor(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
