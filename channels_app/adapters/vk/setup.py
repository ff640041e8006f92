"""Setting a VK channel up: its settings checked, and the community's Callback API server
pointed at the channel (management command vk_setup)."""

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings

from channels_app.adapters.vk.inbound import HANDLED_EVENTS
from channels_app.adapters.vk.vk_api import API_VERSION, KIND, VkApi
from channels_app.contracts import DeliveryFailed
from inbox.delivery_failures import failure_in_english

if TYPE_CHECKING:
    from channels_app.models import Channel

# The server's name in the community's settings (VK allows up to 14 characters).
SERVER_TITLE = "Switchboard"
MAX_SECRET_KEY_LENGTH = 50


def config_errors(public: dict[str, Any]) -> dict[str, str]:
    errors = {}
    group_id = public.get("group_id")
    if group_id is not None and not str(group_id).strip().isdigit():
        errors["group_id"] = "must be the community's numeric id (without the minus sign)"
    url = public.get("api_base_url")
    if url is not None and (
        not isinstance(url, str)
        or urlsplit(url).scheme not in ("http", "https")
        or not urlsplit(url).netloc
    ):
        errors["api_base_url"] = "must be an http(s) URL"
    return errors


def secret_errors(config: dict[str, Any]) -> dict[str, str]:
    secret_key = config.get("secret_key")
    if isinstance(secret_key, str) and not (
        0 < len(secret_key) <= MAX_SECRET_KEY_LENGTH
        and secret_key.isascii()
        and secret_key.isalnum()
    ):
        return {"secret_key": f"must be 1-{MAX_SECRET_KEY_LENGTH} Latin letters and digits"}
    return {}


def new_random_id_key() -> str:
    return secrets.token_urlsafe(32)


class VkSetupFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VkCallbackServer:
    url: str
    server_id: int
    events: tuple[str, ...]
    # Whether the server was added now rather than found among the community's servers.
    is_new: bool


def vk_callback_server_register(*, channel: "Channel") -> VkCallbackServer:
    """Point the community's Callback API at the channel: fetch and keep the confirmation
    code, add (or find) a server for PUBLIC_BASE_URL + the channel's webhook path with
    its secret key, and turn on the events the adapter handles, at our API version."""
    if channel.kind != KIND:
        raise VkSetupFailed(f"channel {channel.pk} is a {channel.kind} channel, not a VK one")
    group_id = str(channel.config.get("group_id") or "")
    secret_key = channel.secrets.get("secret_key")
    if not group_id or not secret_key:
        raise VkSetupFailed("the channel needs its group_id and secret_key first")
    url = f"{settings.PUBLIC_BASE_URL}{channel.webhook_path}"
    api = VkApi(channel)
    try:
        code = api.call("groups.getCallbackConfirmationCode", {"group_id": group_id})
        code = code.get("code") if isinstance(code, dict) else None
        if not isinstance(code, str) or not code:
            raise VkSetupFailed("VK gave no confirmation code")
        channel.set_secrets({**channel.secrets, "confirmation_code": code})
        channel.save(update_fields=["secrets_encrypted"])
        server_id, is_new = _server_for(api, group_id=group_id, url=url, secret_key=secret_key)
        api.call(
            "groups.setCallbackSettings",
            {
                "group_id": group_id,
                "server_id": server_id,
                "api_version": API_VERSION,
                **dict.fromkeys(HANDLED_EVENTS, 1),
            },
        )
    except DeliveryFailed as failure:
        raise VkSetupFailed(failure_in_english(failure.failure)) from failure
    return VkCallbackServer(url=url, server_id=server_id, events=HANDLED_EVENTS, is_new=is_new)


def _server_for(api: VkApi, *, group_id: str, url: str, secret_key: str) -> tuple[int, bool]:
    servers = api.call("groups.getCallbackServers", {"group_id": group_id})
    items = servers.get("items") if isinstance(servers, dict) else None
    for server in items if isinstance(items, list) else []:
        if (
            isinstance(server, dict)
            and server.get("url") == url
            and isinstance(server.get("id"), int)
        ):
            api.call(
                "groups.editCallbackServer",
                {
                    "group_id": group_id,
                    "server_id": server["id"],
                    "url": url,
                    "title": SERVER_TITLE,
                    "secret_key": secret_key,
                },
            )
            return server["id"], False
    added = api.call(
        "groups.addCallbackServer",
        {"group_id": group_id, "url": url, "title": SERVER_TITLE, "secret_key": secret_key},
    )
    server_id = added.get("server_id") if isinstance(added, dict) else None
    if not isinstance(server_id, int):
        raise VkSetupFailed("VK did not say which server it added")
    return server_id, True
