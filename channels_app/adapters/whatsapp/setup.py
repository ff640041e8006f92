"""Setting a WhatsApp channel up: its settings checked."""

from typing import Any
from urllib.parse import urlsplit


def config_errors(public: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    number = public.get("phone_number_id")
    # A string: the ids run to 16 digits, more than a JavaScript number holds exactly.
    if number is not None and not (
        isinstance(number, str) and number.isascii() and number.isdigit()
    ):
        errors["phone_number_id"] = "must be the numeric id Meta shows, given as a string"
    url = public.get("api_base_url")
    if url is not None and not is_http_url(url):
        errors["api_base_url"] = "must be an http(s) URL"
    template = public.get("fallback_template")
    if template is not None:
        problem = _fallback_template_problem(template)
        if problem:
            errors["fallback_template"] = problem
    return errors


def is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _fallback_template_problem(template: Any) -> str:
    if not isinstance(template, dict):
        return 'must be an object {"name", "language", "text_parameter"?}'
    unknown = set(template) - {"name", "language", "text_parameter"}
    if unknown:
        return f"unknown keys: {', '.join(sorted(unknown))}"
    for key in ("name", "language"):
        if not isinstance(template.get(key), str) or not template[key].strip():
            return f"{key} is required (the approved template's name and language code)"
    if not isinstance(template.get("text_parameter", False), bool):
        return "text_parameter must be true or false"
    return ""
