"""Report endpoints for supervisors: JSON, or CSV with `?format=csv`."""

import csv
import io
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import reports, response_reports, survey_reach
from inbox.api.permissions import IsSupervisor

DEFAULT_PERIOD = timedelta(days=30)


class ReportQuerySerializer(serializers.Serializer):
    to = serializers.DateTimeField(required=False)
    channel = serializers.IntegerField(required=False)
    team = serializers.IntegerField(required=False)
    operator = serializers.IntegerField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword, so the field is added by name.
        self.fields["from"] = serializers.DateTimeField(required=False)

    def to_internal_value(self, data):
        return super().to_internal_value(period_dates_as_times(data))


def period_dates_as_times(data) -> dict:
    """The query with a bare date in `from` or `to` read as the whole day (`to` inclusive)."""
    values = {key: data.get(key) for key in data}
    for key in ("from", "to"):
        value = values.get(key)
        if isinstance(value, str) and len(value) == 10:
            try:
                day = datetime.fromisoformat(value).date()
                if key == "to":
                    day += timedelta(days=1)
                values[key] = timezone.make_aware(datetime.combine(day, time.min)).isoformat()
            except (ValueError, OverflowError):  # not a date, or the last day there is
                continue
    return values


class CsatReportQuerySerializer(ReportQuerySerializer):
    group_by = serializers.ChoiceField(choices=reports.GROUPINGS, default="operator")


def report_period(data: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """The validated query's `from` and `to`, by default the DEFAULT_PERIOD up to now."""
    end = data.get("to") or timezone.now()
    start = data.get("from") or end - DEFAULT_PERIOD
    if start >= end:
        raise serializers.ValidationError({"from": [gettext("must be before `to`")]})
    return start, end


def report_filters(data: dict) -> reports.ReportFilters:
    start, end = report_period(data)
    return reports.ReportFilters(
        start=start,
        end=end,
        channel=data.get("channel"),
        team=data.get("team"),
        operator=data.get("operator"),
    )


REPORT_PERIOD_PARAMETERS = [
    OpenApiParameter("from", str, description="ISO date or time (default: 30 days before `to`)"),
    OpenApiParameter("to", str, description="ISO date (inclusive) or time (default: now)"),
]
REPORT_PARAMETERS = [
    *REPORT_PERIOD_PARAMETERS,
    OpenApiParameter("channel", int),
    OpenApiParameter("team", int),
    OpenApiParameter("operator", int),
]


class ReportGroupSerializer(serializers.Serializer):
    id = serializers.JSONField(help_text="Operator, team or channel id, the day, or null")
    name = serializers.CharField()


class CsatReportRowSerializer(serializers.Serializer):
    group = ReportGroupSerializer()
    surveys_sent = serializers.IntegerField()
    responses = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True)
    csat_percent = serializers.FloatField(allow_null=True, help_text="Share of ratings 4-5")
    average_rating = serializers.FloatField(allow_null=True)
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text='Responses per rating, "1" to "5"'
    )
    wilson_lower_bound = serializers.FloatField(allow_null=True)
    enough_responses = serializers.BooleanField()


class PoorRatingSerializer(serializers.Serializer):
    survey_id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    rating = serializers.IntegerField()
    comment = serializers.CharField()
    operator_id = serializers.IntegerField(allow_null=True)
    answered_at = serializers.DateTimeField()


class NotSentReasonSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["skipped", "failed"])
    reason = serializers.CharField(
        help_text="window_closed, no_template, unreachable, fatigue, no_reply, reopened, "
        "turned_off, credentials_rejected, platform_error or other"
    )
    name = serializers.CharField(help_text="The reason in the reader's language")
    count = serializers.IntegerField()


class NotSentSerializer(serializers.Serializer):
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    reasons = NotSentReasonSerializer(many=True)
    summary = serializers.CharField(
        help_text='"120 surveys sent; 14 skipped: window closed 9, unreachable 5"'
    )


NOT_SENT_DESCRIPTION = (
    " `not_sent` counts the surveys due in the period that did not go out, skipped or "
    "failed, per reason."
)


class ReportPeriodSerializer(serializers.Serializer):
    from_ = serializers.DateTimeField()
    to = serializers.DateTimeField()

    def get_fields(self):
        fields = super().get_fields()
        # A Python keyword, so named here; first, as the reports answer.
        return {"from": fields.pop("from_"), **fields}


class CsatReportSerializer(ReportPeriodSerializer):
    group_by = serializers.ChoiceField(choices=reports.GROUPINGS)
    results = CsatReportRowSerializer(many=True)
    needs_attention = PoorRatingSerializer(many=True)
    not_sent = NotSentSerializer()


class DurationSerializer(serializers.Serializer):
    median_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)


class SlaCountsSerializer(serializers.Serializer):
    decided = serializers.IntegerField(
        help_text="Conversations with an SLA resolved in the period (every target decided)"
    )
    met = serializers.IntegerField(help_text="Of those, the ones with no target breached")
    breached = serializers.IntegerField()


class ConversationReportRowSerializer(serializers.Serializer):
    group = ReportGroupSerializer()
    conversations = serializers.IntegerField()
    volume = serializers.IntegerField(help_text="The same as conversations.")
    first_response = DurationSerializer()
    resolution = DurationSerializer()
    first_response_business = DurationSerializer(
        help_text="In business time of the SLA policy's calendar, where one applies"
    )
    resolution_business = DurationSerializer(
        help_text="In business time of the SLA policy's calendar, where one applies"
    )
    sla = SlaCountsSerializer()
    sla_met_percent = serializers.FloatField(
        allow_null=True, help_text="Share of the decided conversations with none breached"
    )


class ConversationReportSerializer(ReportPeriodSerializer):
    by_operator = ConversationReportRowSerializer(many=True)
    by_team = ConversationReportRowSerializer(many=True)
    by_channel = ConversationReportRowSerializer(many=True)


class ReportCsvRenderer(BaseRenderer):
    """`?format=csv`: a report as a spreadsheet-friendly CSV file (an error as one too)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if not isinstance(data, dict) or not self.is_report(data):
            writer.writerow(["error", "detail"])
            writer.writerow([data.get("error", ""), data.get("detail", "")])
        else:
            self.write_report(writer, data)
        return buffer.getvalue().encode()

    def is_report(self, data: dict) -> bool:
        return "results" in data

    def write_report(self, writer, data: dict) -> None:
        raise NotImplementedError


class CsatCsvRenderer(ReportCsvRenderer):
    """The CSAT report's rows."""

    def write_report(self, writer, data: dict) -> None:
        writer.writerow(
            [data["group_by"], "name", "surveys_sent", "responses", "response_rate",
             "csat_percent", "average_rating", "rated_1", "rated_2", "rated_3", "rated_4",
             "rated_5", "wilson_lower_bound", "enough_responses"]
        )  # fmt: skip
        for row in data["results"]:
            writer.writerow(
                [row["group"]["id"], row["group"]["name"], row["surveys_sent"],
                 row["responses"], row["response_rate"], row["csat_percent"],
                 row["average_rating"], *(row["distribution"][str(v)] for v in range(1, 6)),
                 row["wilson_lower_bound"], row["enough_responses"]]
            )  # fmt: skip


class ConversationCsvRenderer(ReportCsvRenderer):
    """The response-time report's rows: operators, then teams, then channels."""

    def is_report(self, data: dict) -> bool:
        return "by_operator" in data

    def write_report(self, writer, data: dict) -> None:
        writer.writerow(
            ["grouping", "id", "name", "conversations", "first_response_median_seconds",
             "first_response_p90_seconds", "resolution_median_seconds", "resolution_p90_seconds",
             "first_response_business_median_seconds", "first_response_business_p90_seconds",
             "resolution_business_median_seconds", "resolution_business_p90_seconds",
             "sla_decided", "sla_met", "sla_met_percent"]
        )  # fmt: skip
        for grouping in response_reports.GROUPINGS:
            for row in data[f"by_{grouping}"]:
                writer.writerow(
                    [grouping, row["group"]["id"], row["group"]["name"], row["conversations"],
                     *(row[measure.name][figure] for measure in response_reports.MEASURES
                       for figure in ("median_seconds", "p90_seconds")),
                     row["sla"]["decided"], row["sla"]["met"], row["sla_met_percent"]]
                )  # fmt: skip


class CsatReportApi(APIView):
    permission_classes = [IsSupervisor]
    renderer_classes = [JSONRenderer, CsatCsvRenderer]

    @extend_schema(
        parameters=[
            *REPORT_PARAMETERS,
            OpenApiParameter("group_by", str, enum=list(reports.GROUPINGS)),
        ],
        responses={200: CsatReportSerializer},
        description=(
            "Per group: surveys_sent, responses, response_rate, csat_percent (share of 4-5), "
            "average_rating, distribution {1..5}, wilson_lower_bound of the satisfied share "
            "and enough_responses. Rows are ranked by the Wilson bound." + NOT_SENT_DESCRIPTION
        ),
    )
    def get(self, request):
        query = CsatReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = report_filters(query.validated_data)
        group_by = query.validated_data["group_by"]
        rows = reports.csat_report(group_by=group_by, filters=filters)
        response = Response(
            {
                "from": filters.start,
                "to": filters.end,
                "group_by": group_by,
                "results": rows,
                "needs_attention": [
                    {
                        "survey_id": survey.pk,
                        "conversation_id": survey.conversation_id,
                        "rating": survey.rating,
                        "comment": survey.comment,
                        "operator_id": survey.operator_id,
                        "answered_at": survey.answered_at,
                    }
                    for survey in reports.needs_attention(filters=filters)
                ],
                "not_sent": survey_reach.surveys_not_sent(
                    filters=filters,
                    kind="csat",
                    surveys_sent=sum(row["surveys_sent"] for row in rows),
                ),
            }
        )
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="csat-by-{group_by}.csv"'
        return response


class ConversationReportApi(APIView):
    permission_classes = [IsSupervisor]
    renderer_classes = [JSONRenderer, ConversationCsvRenderer]

    @extend_schema(
        parameters=REPORT_PARAMETERS,
        responses={200: ConversationReportSerializer},
        description="Per operator, team and channel: volume, first response and resolution "
        "time (median, p90) of the conversations opened in the period, in wall time and, "
        "where their SLA policy has a calendar, in business time; and SLA attainment "
        "(sla_met_percent) of the conversations with an SLA resolved in the period. "
        "`?format=csv` gives the rows as CSV.",
    )
    def get(self, request):
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = report_filters(query.validated_data)
        response = Response(
            {
                "from": filters.start,
                "to": filters.end,
                **response_reports.conversation_report(filters=filters),
            }
        )
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = 'attachment; filename="response-times.csv"'
        return response
