"""The API's error answers in its OpenAPI schema: every operation documents the statuses it
can answer besides success, each in the one JSON error shape (inbox.api.errors), so that a
client generated from the schema, or a tool checking answers against it, expects them.

Which ones an operation gets follows from what it takes: every operation may be refused
to an anonymous caller (401) or to a role that may not use it (403) and may be throttled
(429); one that reads input (a body or query parameters) may find it invalid (400), and a
body may be too large (413); one that names an object in its path, or pages through a
list, may find none (404).
"""

from typing import Any

ERROR_COMPONENT = "Error"

_ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer of the API.",
    "properties": {
        "error": {"type": "string", "description": "A code: invalid, not_found, …"},
        "detail": {"type": "string", "description": "What went wrong, in the reader's language."},
        "fields": {
            "type": "object",
            "description": "For `invalid`: what is wrong with each field of the input.",
            "additionalProperties": True,
        },
    },
    "required": ["error", "detail"],
}

_DESCRIPTIONS = {
    "400": "The input is invalid.",
    "401": "No valid credentials were given.",
    "403": "This role may not do this.",
    "404": "No such object (or not one this caller may see), or no such page.",
    "413": "The body is too large.",
    "429": "Too many requests: try again later.",
}

_METHODS = ("get", "put", "post", "patch", "delete")


def error_responses_documented(result: dict[str, Any], generator, **kwargs) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the error answers each operation may give."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = _ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in _error_statuses(path, operation):
                responses.setdefault(status, _error_response(status))
    return result


def _error_statuses(path: str, operation: dict[str, Any]) -> list[str]:
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    statuses = ["401", "403", "429"]
    if has_body or any(parameter.get("in") == "query" for parameter in parameters):
        statuses.append("400")
    if has_body:
        statuses.append("413")
    if "{" in path or any(parameter.get("name") == "page" for parameter in parameters):
        statuses.append("404")
    return statuses


def _error_response(status: str) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[status],
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}
        },
    }
