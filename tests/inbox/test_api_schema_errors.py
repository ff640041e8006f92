"""The schema documents each operation's error answers in the API's one error shape, and
the answers the server gives have that shape."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from inbox.api.schema_errors import ERROR_COMPONENT

ERROR_REFERENCE = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def error_schema_of(operation, status):
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_every_operation_documents_refusals_in_the_error_shape(schema):
    for path, method, operation in operations(schema):
        for status in ("401", "403", "429"):
            assert error_schema_of(operation, status) == ERROR_REFERENCE, (path, method, status)


def test_operations_that_take_input_or_name_an_object_document_400_and_404(schema):
    for path, method, operation in operations(schema):
        takes_query = any(item["in"] == "query" for item in operation.get("parameters", []))
        if "requestBody" in operation or takes_query:
            assert error_schema_of(operation, "400") == ERROR_REFERENCE, (path, method)
        if "{" in path:
            assert error_schema_of(operation, "404") == ERROR_REFERENCE, (path, method)
    conversation = schema["paths"]["/api/v1/conversations/{conversation_id}/"]["get"]
    assert "400" not in conversation["responses"]  # it reads nothing but its path


def test_a_documented_success_answer_is_left_as_it_was(schema):
    listing = schema["paths"]["/api/v1/conversations/"]["get"]["responses"]["200"]
    assert "Error" not in str(listing)


@pytest.mark.django_db
def test_the_servers_error_answers_have_the_documented_shape(schema, operator_client):
    required = set(schema["components"]["schemas"][ERROR_COMPONENT]["required"])
    answers = [
        operator_client.get("/api/v1/conversations/999999/"),
        operator_client.get("/api/v1/conversations/?status=nonsense"),
        operator_client.get("/api/v1/labels/999999/"),
        # Refused by Django before any view: more form fields than it reads.
        operator_client.post("/api/v1/labels/", {f"field{n}": "x" for n in range(1_500)}),
    ]

    assert [answer.status_code for answer in answers] == [404, 400, 404, 400]
    for answer in answers:
        body = answer.json()
        assert required <= set(body) and all(isinstance(body[key], str) for key in required)
