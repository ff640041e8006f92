"""No request the API's schema allows makes the API answer 500: every operation, with
examples generated from its documented parameters and bodies, as an admin."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from inbox import people
from inbox.models import Role
from tests.factories import UserFactory

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application


@pytest.fixture
def requests_keep_the_test_connection():
    """As Django's test client does: a request does not close the connection the test's
    transaction is on."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db, requests_keep_the_test_connection):
    admin = UserFactory(username="fuzz-admin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    return people.operator_api_token(user=admin)


@pytest.mark.django_db
@schema.parametrize()
# The same examples on every run: a failure here is one request, always the same.
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_documented_request_makes_a_server_error(case, admin_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {admin_token}"}, checks=[not_a_server_error]
    )
