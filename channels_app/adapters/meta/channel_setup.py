"""Settings shared by the Messenger Platform channels (Facebook pages, Instagram accounts),
and subscribing the account to the app's webhook through the Graph API."""

from typing import Any

from channels_app.adapters.meta.send_api import SendApi
from channels_app.contracts import DeliveryFailed


def config_errors(public: dict[str, Any], *, account_key: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    account = public.get(account_key)
    # A string: the ids run past what a JavaScript number holds exactly.
    if account is not None and not (
        isinstance(account, str) and account.isascii() and account.isdigit()
    ):
        errors[account_key] = "must be the numeric id Meta shows, given as a string"
    url = public.get("api_base_url")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        errors["api_base_url"] = "must be an http(s) URL"
    if not isinstance(public.get("human_agent_tag", False), bool):
        errors["human_agent_tag"] = "must be true or false"
    return errors


def account_subscribe(api: SendApi, *, account_path: str, fields: tuple[str, ...]) -> list[str]:
    """POST /<account>/subscribed_apps with the webhook fields; returns the fields asked."""
    answer = api.request_json(
        "POST",
        f"{account_path}/subscribed_apps",
        action="webhook subscription",
        params={"subscribed_fields": ",".join(fields)},
    )
    if answer.get("success") is not True:
        raise DeliveryFailed(
            f"{api.platform} did not confirm the subscription: {str(answer)[:300]}",
            is_retryable=False,
        )
    return list(fields)
