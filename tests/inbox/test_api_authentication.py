"""inbox.api.authentication.TokenAuthentication answers exactly as DRF's does, in one query."""

import pytest
from django.test import RequestFactory
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from inbox import people
from inbox.api.authentication import TokenAuthentication
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def outcome(authenticator, header: str | None):
    headers = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    request = Request(RequestFactory().get("/api/v1/conversations/", **headers))
    try:
        answer = authenticator.authenticate(request)
    except exceptions.AuthenticationFailed as failure:
        return ("refused", str(failure.detail))
    if answer is None:
        return None
    user, token = answer
    return (user.pk, user.username, user.role, token.key, token.user_id, token.created)


@pytest.fixture
def key(operator):
    return people.operator_api_token(user=operator)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer abc",
        "Token",
        "Token a b",
        "Token no-such-key",
        "TOKEN {key}",
        "Token {key}",
    ],
)
def test_it_answers_as_drfs_token_authentication(key, header):
    header = header.format(key=key) if header else header

    assert outcome(TokenAuthentication(), header) == outcome(
        authentication.TokenAuthentication(), header
    )


def test_the_user_and_token_come_in_one_query(key, operator, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert outcome(TokenAuthentication(), f"Token {key}")[:2] == (operator.pk, "anna")


def test_an_inactive_users_token_is_refused(key, operator):
    operator.is_active = False
    operator.save()

    assert outcome(TokenAuthentication(), f"Token {key}") == (
        "refused",
        "User inactive or deleted.",
    )


def test_a_revoked_token_is_refused_at_once(key, operator):
    assert outcome(TokenAuthentication(), f"Token {key}")[0] == operator.pk
    operator.auth_token.delete()

    assert outcome(TokenAuthentication(), f"Token {key}") == ("refused", "Invalid token.")
    assert outcome(TokenAuthentication(), f"Token {people.operator_api_token(user=UserFactory())}")
