"""Setting a WhatsApp channel up: its settings checked."""

import re
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
    survey_template = public.get("survey_template")
    if survey_template is not None:
        problem = survey_template_problem(survey_template)
        if problem:
            errors["survey_template"] = problem
    return errors


def is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


SURVEY_TEMPLATE_BUTTONS = ("quick_reply", "url")
# Ours ("ru", "pt-br") and Meta's ("en_US", "pt_BR", "ru").
READER_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
TEMPLATE_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]{2,8})?")
MAX_TEMPLATE_NAME_LENGTH = 512


def survey_template_problem(template: Any) -> str:
    shape = 'must be an object {"name", "languages": {"en": "en_US", ...}, "buttons"}'
    if not isinstance(template, dict):
        return shape
    unknown = set(template) - {"name", "languages", "buttons"}
    if unknown:
        return f"unknown keys: {', '.join(sorted(unknown))}"
    name = template.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_TEMPLATE_NAME_LENGTH:
        return "name is required: the approved template's name"
    languages = template.get("languages")
    if not isinstance(languages, dict) or not languages:
        return (
            "languages is required: the customer's language to the template's language "
            'code, e.g. {"en": "en_US", "ru": "ru"}'
        )
    for reader, code in languages.items():
        if not READER_LANGUAGE.fullmatch(reader):
            return f"languages: {reader!r} is not a language code such as en or pt-br"
        if not isinstance(code, str) or not TEMPLATE_LANGUAGE.fullmatch(code):
            return f"languages: {reader!r} needs a template language code such as en_US"
    if template.get("buttons") not in SURVEY_TEMPLATE_BUTTONS:
        return "buttons must be quick_reply (one button per value) or url (a link button)"
    return ""


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
