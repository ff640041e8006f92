"""REST API: the audit log (admins only)."""

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from inbox.api.permissions import IsAdmin
from inbox.api.report_views import period_dates_as_times
from inbox.audit.models import AuditAction, AuditRecord
from inbox.audit.selectors import audit_records_filtered


class AuditLogQuerySerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=AuditAction.choices, required=False)
    actor = serializers.IntegerField(min_value=1, required=False)
    to = serializers.DateTimeField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword, so the field is added by name.
        self.fields["from"] = serializers.DateTimeField(required=False)

    def to_internal_value(self, data):
        return super().to_internal_value(period_dates_as_times(data))

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] >= attrs["to"]:
            raise serializers.ValidationError({"from": [gettext("must be before `to`")]})
        return attrs


class AuditRecordOutputSerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    details = serializers.DictField(
        help_text="Ids and the names of what changed; never secret or personal values."
    )

    class Meta:
        model = AuditRecord
        fields = [
            "id",
            "action",
            "actor",
            "actor_username",
            "client_address",
            "target_type",
            "target_id",
            "details",
            "created_at",
        ]


class AuditLogListApi(generics.ListAPIView):
    serializer_class = AuditRecordOutputSerializer
    permission_classes = [IsAdmin]
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("action", str, enum=AuditAction.values),
            OpenApiParameter("actor", int, description="an operator's id"),
            OpenApiParameter("from", str, description="ISO date or time"),
            OpenApiParameter("to", str, description="ISO date (inclusive) or time"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = AuditLogQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        return audit_records_filtered(
            action=values.get("action"),
            actor=values.get("actor"),
            since=values.get("from"),
            until=values.get("to"),
        )
