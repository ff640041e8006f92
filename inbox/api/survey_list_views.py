"""REST API: surveys of every kind (CSAT, CES, NPS) and their answers."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers

from inbox.api.base import current_operator
from inbox.api.follow_up_views import FollowUpOutputSerializer
from inbox.follow_ups.representation import follow_up_representation
from inbox.models import CsatSurvey, SurveyKind, SurveyStatus
from inbox.selectors.surveys import SurveyFilters, surveys_for_user


class SurveyQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SurveyKind.values, required=False)
    status = serializers.ChoiceField(choices=SurveyStatus.values, required=False)
    customer = serializers.IntegerField(min_value=1, required=False)
    conversation = serializers.IntegerField(min_value=1, required=False)


class SurveyOutputSerializer(serializers.ModelSerializer):
    conversation = serializers.IntegerField(source="conversation_id")
    customer = serializers.IntegerField(source="customer_id")
    operator = serializers.IntegerField(
        source="operator_id", allow_null=True, help_text="assigned at the resolve"
    )
    channel = serializers.IntegerField(source="channel_id")
    follow_up = serializers.SerializerMethodField(
        help_text="the low score's follow-up and its outcome; null when none was opened"
    )

    class Meta:
        model = CsatSurvey
        fields = [
            "id", "kind", "status", "rating", "comment", "conversation", "customer",
            "operator", "channel", "sent_at", "answered_at", "follow_up",
        ]  # fmt: skip

    @extend_schema_field(FollowUpOutputSerializer(allow_null=True))
    def get_follow_up(self, survey: CsatSurvey) -> dict | None:
        follow_up = getattr(survey, "follow_up", None)
        return None if follow_up is None else follow_up_representation(follow_up)


class SurveyListApi(generics.ListAPIView):
    serializer_class = SurveyOutputSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=SurveyKind.values),
            OpenApiParameter("status", str, enum=SurveyStatus.values),
            OpenApiParameter("customer", int),
            OpenApiParameter("conversation", int),
        ],
        description="Surveys of the conversations you may see, newest first. `rating` is on "
        "the kind's scale: csat 1-5, ces 1-7 (7 = very easy), nps 0-10.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = SurveyQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return surveys_for_user(
            user=current_operator(self.request), filters=SurveyFilters(**query.validated_data)
        )
