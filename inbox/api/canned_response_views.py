"""REST API: canned responses. Shared ones are everyone's to use and supervisors' and
admins' to change; personal ones their owner's alone (inbox.canned_responses)."""

from typing import cast

from django.utils.translation import gettext_lazy as _
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied, ValidationError

from inbox.api import serializers as s
from inbox.canned_responses import (
    canned_response_list_for,
    canned_response_may_change,
    canned_response_shortcut_taken,
    user_may_share_canned_responses,
)
from inbox.models import User


def _user(request) -> User:
    # The API's default permission admits signed-in users only.
    return cast(User, request.user)


SHARED_ONLY_BY_SUPERVISORS = _("Only supervisors and admins may change shared canned replies.")


def _check_shortcut_free(serializer, *, owner, is_shared: bool, excluding_id=None) -> None:
    shortcut = serializer.validated_data.get("shortcut")
    if shortcut is None and serializer.instance is not None:
        shortcut = serializer.instance.shortcut
    if canned_response_shortcut_taken(
        shortcut=shortcut, is_shared=is_shared, owner=owner, excluding_id=excluding_id
    ):
        raise ValidationError({"shortcut": [_("A canned reply with this shortcut exists.")]})


class CannedResponseListApi(generics.ListCreateAPIView):
    serializer_class = s.CannedResponseSerializer
    filter_backends: list = []

    def get_queryset(self):
        return canned_response_list_for(user=_user(self.request))

    def perform_create(self, serializer):
        user = _user(self.request)
        is_shared = serializer.validated_data.get(
            "is_shared", user_may_share_canned_responses(user)
        )
        if is_shared and not user_may_share_canned_responses(user):
            raise PermissionDenied(SHARED_ONLY_BY_SUPERVISORS)
        _check_shortcut_free(serializer, owner=user, is_shared=is_shared)
        serializer.save(created_by=user, is_shared=is_shared)


class CannedResponseDetailApi(generics.RetrieveUpdateDestroyAPIView):
    """Others' personal replies are not found (404); shared ones are read by everyone and
    changed or deleted by supervisors and admins only (403)."""

    serializer_class = s.CannedResponseSerializer
    lookup_url_kwarg = "canned_response_id"

    def get_queryset(self):
        return canned_response_list_for(user=_user(self.request))

    def perform_update(self, serializer):
        user = _user(self.request)
        canned_response = serializer.instance
        if not canned_response_may_change(user=user, canned_response=canned_response):
            raise PermissionDenied(SHARED_ONLY_BY_SUPERVISORS)
        is_shared = serializer.validated_data.get("is_shared", canned_response.is_shared)
        if is_shared != canned_response.is_shared and not user_may_share_canned_responses(user):
            raise PermissionDenied(SHARED_ONLY_BY_SUPERVISORS)
        # A shared reply made personal becomes the personal reply of whoever did it.
        owner = user if canned_response.is_shared and not is_shared else canned_response.created_by
        _check_shortcut_free(
            serializer, owner=owner, is_shared=is_shared, excluding_id=canned_response.pk
        )
        serializer.save(created_by=owner)

    def perform_destroy(self, instance):
        if not canned_response_may_change(user=_user(self.request), canned_response=instance):
            raise PermissionDenied(SHARED_ONLY_BY_SUPERVISORS)
        instance.delete()
