"""Setting a WhatsApp channel up: its settings checked, and Meta's GET handshake that
proves the webhook URL is ours."""

import hmac
from typing import Any
from urllib.parse import urlsplit

from channels_app.contracts import SignatureInvalid, VerificationAnswer, WebhookRequest

MAX_CHALLENGE_LENGTH = 200


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


def verification_answer(verify_token: str | None, request: WebhookRequest) -> VerificationAnswer:
    """Echo `hub.challenge` when `hub.verify_token` is the channel's."""
    if not verify_token:
        raise SignatureInvalid("the channel has no verify_token configured", status_code=403)
    mode = request.query.get("hub.mode")
    token = request.query.get("hub.verify_token")
    challenge = request.query.get("hub.challenge")
    if mode != "subscribe" or token is None or not challenge:
        raise SignatureInvalid(
            "expected hub.mode=subscribe, hub.verify_token and hub.challenge",
            status_code=403,
        )
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        raise SignatureInvalid("hub.verify_token does not match", status_code=403)
    if len(challenge) > MAX_CHALLENGE_LENGTH:
        raise SignatureInvalid("hub.challenge is too long", status_code=403)
    return VerificationAnswer(status_code=200, body=challenge, content_type="text/plain")


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
