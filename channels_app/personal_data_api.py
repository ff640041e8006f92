"""REST API: erasing a customer's personal data (admins only). It lives here because the
raw webhook events that carry the data are this app's; exporting is the inbox's."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app import services
from customers.models import Customer
from inbox.api.permissions import IsAdmin
from inbox.audit.records import audit_actor


class CustomerErasureOutputSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    profiles = serializers.ListField(
        child=serializers.IntegerField(), help_text="This profile and those merged into it."
    )
    conversations = serializers.IntegerField(help_text="Conversations whose content was erased.")


class CustomerEraseApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        request=None,
        responses=CustomerErasureOutputSerializer,
        description=(
            "Remove the customer's personal data for good: names, addresses, identities, "
            "attributes, notes, message text, files, survey comments and the raw webhook "
            "events that carry them. Counts and ratings stay. Cannot be undone."
        ),
    )
    def post(self, request, customer_id: int):
        customer = get_object_or_404(Customer, pk=customer_id)
        if customer.merged_into_id is not None:
            raise ValidationError(
                {
                    "non_field_errors": [
                        gettext("this profile was merged into customer %(id)s; erase that one")
                        % {"id": customer.merged_into_id}
                    ]
                }
            )
        erased = services.customer_erase(customer=customer, actor=audit_actor(request))
        return Response(
            CustomerErasureOutputSerializer(
                {
                    "customer": customer.pk,
                    "profiles": erased.profile_ids,
                    "conversations": len(erased.conversation_ids),
                }
            ).data
        )
