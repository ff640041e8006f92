"""NPS and CES report endpoints for supervisors: JSON, or CSV with `?format=csv`, shaped
like the CSAT report (`from`, `to`, `group_by`, `results`) plus the period's `overall`."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import reports, survey_reach, survey_reports
from inbox.api.permissions import IsSupervisor
from inbox.api.report_views import (
    NOT_SENT_DESCRIPTION,
    REPORT_PARAMETERS,
    CsatReportQuerySerializer,
    NotSentSerializer,
    ReportCsvRenderer,
    ReportGroupSerializer,
    ReportPeriodSerializer,
    report_filters,
)


class SurveyResponsesSerializer(serializers.Serializer):
    surveys_sent = serializers.IntegerField()
    responses = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True)
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text="Responses per value of the scale"
    )


class GroupFirstSerializer(serializers.Serializer):
    """A report row: its group first, then the figures, as the reports answer."""

    group = ReportGroupSerializer()

    def get_fields(self):
        fields = super().get_fields()
        return {"group": fields.pop("group"), **fields}


class NpsFiguresSerializer(SurveyResponsesSerializer):
    promoters = serializers.IntegerField(help_text="Answers of 9 or 10")
    passives = serializers.IntegerField(help_text="Answers of 7 or 8")
    detractors = serializers.IntegerField(help_text="Answers of 0 to 6")
    nps = serializers.FloatField(
        allow_null=True, help_text="% promoters - % detractors, from -100 to 100"
    )


class NpsRowSerializer(GroupFirstSerializer, NpsFiguresSerializer):
    pass


class NpsReportSerializer(ReportPeriodSerializer):
    group_by = serializers.ChoiceField(choices=reports.GROUPINGS)
    results = NpsRowSerializer(many=True)
    overall = NpsFiguresSerializer()
    not_sent = NotSentSerializer()


class CesFiguresSerializer(SurveyResponsesSerializer):
    average = serializers.FloatField(allow_null=True, help_text="1 to 7, 7 = very easy")
    easy_percent = serializers.FloatField(allow_null=True, help_text="Share of answers 5 to 7")


class CesRowSerializer(GroupFirstSerializer, CesFiguresSerializer):
    pass


class CesReportSerializer(ReportPeriodSerializer):
    group_by = serializers.ChoiceField(choices=reports.GROUPINGS)
    results = CesRowSerializer(many=True)
    overall = CesFiguresSerializer()
    not_sent = NotSentSerializer()


class _SurveyCsvRenderer(ReportCsvRenderer):
    """A row per group, then the overall figures (`overall` in the first column)."""

    figures: tuple[str, ...] = ()
    values: range = range(0)

    def write_report(self, writer, data: dict) -> None:
        common = ("surveys_sent", "responses", "response_rate")
        writer.writerow(
            [data["group_by"], "name", *common, *self.figures]
            + [f"answered_{value}" for value in self.values]
        )
        rows = [(row["group"]["id"], row["group"]["name"], row) for row in data["results"]]
        for key, name, row in [*rows, ("overall", "", data["overall"])]:
            writer.writerow(
                [key, name, *(row[field] for field in (*common, *self.figures))]
                + [row["distribution"][str(value)] for value in self.values]
            )


class NpsCsvRenderer(_SurveyCsvRenderer):
    figures = ("promoters", "passives", "detractors", "nps")
    values = range(0, 11)


class CesCsvRenderer(_SurveyCsvRenderer):
    figures = ("average", "easy_percent")
    values = range(1, 8)


def _report_response(request, *, kind: str, report: Callable[..., dict[str, Any]]) -> Response:
    query = CsatReportQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    filters = report_filters(query.validated_data)
    group_by = query.validated_data["group_by"]
    figures = report(group_by=group_by, filters=filters)
    response = Response(
        {
            "from": filters.start,
            "to": filters.end,
            "group_by": group_by,
            **figures,
            "not_sent": survey_reach.surveys_not_sent(
                filters=filters, kind=kind, surveys_sent=figures["overall"]["surveys_sent"]
            ),
        }
    )
    if request.accepted_renderer.format == "csv":
        response["Content-Disposition"] = f'attachment; filename="{kind}-by-{group_by}.csv"'
    return response


GROUP_BY_PARAMETER = OpenApiParameter("group_by", str, enum=list(reports.GROUPINGS))


class NpsReportApi(APIView):
    permission_classes = [IsSupervisor]
    renderer_classes = [JSONRenderer, NpsCsvRenderer]

    @extend_schema(
        parameters=[*REPORT_PARAMETERS, GROUP_BY_PARAMETER],
        responses={200: NpsReportSerializer},
        description=(
            "NPS surveys sent in the period, per group and overall: surveys_sent, responses, "
            "response_rate, promoters (9-10), passives (7-8), detractors (0-6), nps "
            "(% promoters - % detractors, -100..100) and the distribution of answers 0-10."
            + NOT_SENT_DESCRIPTION
        ),
    )
    def get(self, request):
        return _report_response(request, kind="nps", report=survey_reports.nps_report)


class CesReportApi(APIView):
    permission_classes = [IsSupervisor]
    renderer_classes = [JSONRenderer, CesCsvRenderer]

    @extend_schema(
        parameters=[*REPORT_PARAMETERS, GROUP_BY_PARAMETER],
        responses={200: CesReportSerializer},
        description=(
            "CES surveys sent in the period, per group and overall: surveys_sent, responses, "
            "response_rate, average (1-7, 7 = very easy), easy_percent (share of 5-7) and "
            "the distribution of answers 1-7." + NOT_SENT_DESCRIPTION
        ),
    )
    def get(self, request):
        return _report_response(request, kind="ces", report=survey_reports.ces_report)
