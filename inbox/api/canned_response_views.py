"""REST API: canned responses."""

from rest_framework import generics

from inbox.api import serializers as s
from inbox.models import CannedResponse


class CannedResponseListApi(generics.ListCreateAPIView):
    serializer_class = s.CannedResponseSerializer
    filter_backends: list = []
    queryset = CannedResponse.objects.order_by("shortcut")

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)


class CannedResponseDetailApi(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.CannedResponseSerializer
    lookup_url_kwarg = "canned_response_id"
    queryset = CannedResponse.objects.all()
