"""REST API: customers, merging duplicates and undoing a merge."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer, CustomerMerge, HealthRisk
from customers.services import CustomerMergeError
from inbox import selectors, services
from inbox.api import customer_serializers as s
from inbox.api.base import RowListApi, current_operator, get_or_invalid
from inbox.api.permissions import IsSupervisor
from inbox.audit.records import audit_actor
from inbox.client_addresses import request_client_address
from inbox.personal_data.export import customer_export
from inbox.representations import customer_row_representation
from inbox.selectors.customer_health import customer_health


class CustomerListQuerySerializer(serializers.Serializer):
    health = serializers.ChoiceField(choices=HealthRisk.values, required=False)


class CustomerListApi(RowListApi):
    serializer_class = s.CustomerOutputSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="name, email, phone or any identity"),
            OpenApiParameter(
                "health",
                str,
                enum=HealthRisk.values,
                description="risk level as last worked out (`high`: at risk)",
            ),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def _filters(self) -> dict:
        query = CustomerListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return {
            "user": current_operator(self.request),
            "query": self.request.query_params.get("q", ""),
            "health_risk": query.validated_data.get("health"),
        }

    def json_rows(self):
        return selectors.customer_json_rows_for_user(**self._filters())

    def get_queryset(self):
        return selectors.customer_rows_for_user(**self._filters())

    def complete(self, rows):
        return selectors.customer_rows_complete(rows)

    def represent(self, row):
        return customer_row_representation(row)


class CustomerDetailApi(APIView):
    def _render(self, request, customer: Customer) -> Response:
        timeline = selectors.customer_timeline(
            user=current_operator(request), customer_id=customer.pk
        )
        health = customer_health(customer_id=customer.pk)
        return Response(
            s.CustomerDetailOutputSerializer(
                customer, context={"timeline": timeline, "health": health}
            ).data
        )

    @extend_schema(responses=s.CustomerDetailOutputSerializer)
    def get(self, request, customer_id: int):
        customer = get_object_or_404(
            selectors.customers_visible_to(current_operator(request)).prefetch_related(
                "identities", "claims"
            ),
            pk=customer_id,
        )
        return self._render(request, customer)

    @extend_schema(
        request=s.CustomerUpdateInputSerializer, responses=s.CustomerDetailOutputSerializer
    )
    def patch(self, request, customer_id: int):
        customer = get_object_or_404(
            selectors.customers_visible_to(current_operator(request)), pk=customer_id
        )
        data = s.CustomerUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        for field, value in data.validated_data.items():
            setattr(customer, field, value)
        customer.save()
        return self._render(request, customer)


class CustomerMergeApi(APIView):
    @extend_schema(
        request=s.MergeInputSerializer,
        responses={201: s.MergeOutputSerializer},
        description="Merge the customer `other` into this one, which survives.",
    )
    def post(self, request, customer_id: int):
        data = s.MergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visible = selectors.customers_visible_to(current_operator(request))
        survivor = get_object_or_404(visible, pk=customer_id)
        merged = get_or_invalid(visible, data.validated_data["other"], "other")
        try:
            merge = services.customer_merge_with_conversations(
                survivor=survivor,
                merged=merged,
                merged_by=current_operator(request),
                address=request_client_address(request),
            )
        except CustomerMergeError as error:
            raise ValidationError({"other": [str(error)]}) from error
        return Response(s.MergeOutputSerializer(merge).data, status=status.HTTP_201_CREATED)


class CustomerMergeUndoApi(APIView):
    @extend_schema(request=None, responses=s.MergeOutputSerializer)
    def post(self, request, merge_id: int):
        # Undoing needs sight of the profile that survived it.
        merge = get_object_or_404(
            CustomerMerge.objects.filter(
                survivor__in=selectors.customers_visible_to(current_operator(request))
            ),
            pk=merge_id,
        )
        try:
            merge = services.customer_merge_undo_with_conversations(
                merge=merge,
                undone_by=current_operator(request),
                address=request_client_address(request),
            )
        except CustomerMergeError as error:
            raise ValidationError({"non_field_errors": [str(error)]}) from error
        return Response(s.MergeOutputSerializer(merge).data)


class CustomerExportApi(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(
        responses=s.CustomerExportOutputSerializer,
        description="Everything kept about the customer, as one JSON document.",
    )
    def get(self, request, customer_id: int):
        customer = get_object_or_404(
            Customer.objects.prefetch_related("identities", "claims", "notes__author"),
            pk=customer_id,
        )
        return Response(customer_export(customer=customer, actor=audit_actor(request)))
