"""The generic API channel: our own signed JSON in, signed JSON POSTed out."""

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from channels_app.adapters.base import (
    ChannelAdapter,
    check_switchboard_signature,
    hmac_sha256_hex,
    parse_json_object,
)
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryResult,
    InboundAttachment,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
    OutboundMessage,
    OutboundSurvey,
    PayloadMalformed,
    WebhookRequest,
)
from channels_app.http import (
    delivery_failure_for_status,
    delivery_failure_for_transport,
    http_client,
)
from channels_app.text import storable_line, storable_text

MAX_TEXT_LENGTH = 65_536
MAX_URL_LENGTH = 2000  # what an attachment keeps of a link
MAX_SIZE = 2**63 - 1  # the largest byte count the database stores
# Times outside these years are typing errors or attacks, and some do not survive the
# conversion to UTC.
MIN_YEAR, MAX_YEAR = 1970, 2200


class ApiAdapter(ChannelAdapter):
    """Inbound: `{"id", "sender": {"id", "name", "email"?, "phone"?}, "text", "attachments"?,
    "timestamp"?}` signed with `X-Switchboard-Signature: sha256=<hex HMAC of the raw body>`.
    Outbound: the reply as JSON POSTed, signed the same way, to the channel's callback URL.
    The channel vouches for the sender, so the email and phone it gives are verified identities.
    """

    kind = "api"
    sends_surveys_in_parallel = True
    public_config_keys = ("callback_url",)
    secret_config_keys = ("secret",)
    required_config_keys = ("secret",)

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        url = public.get("callback_url")
        if url and urlsplit(str(url)).scheme not in ("http", "https"):
            return {"callback_url": "must be an http(s) URL"}
        return {}

    def verify(self, request: WebhookRequest) -> None:
        check_switchboard_signature(self.channel, request)

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        payload = parse_json_object(request.body)
        external_id = _required_id(payload.get("id"), "id")
        sender = payload.get("sender")
        if not isinstance(sender, dict):
            raise PayloadMalformed("sender must be an object with an id")
        sender_id = _required_id(sender.get("id"), "sender.id")
        text = payload.get("text", "")
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise PayloadMalformed("text must be a string")
        text = storable_text(text)
        if len(text) > MAX_TEXT_LENGTH:
            raise PayloadMalformed(f"text is longer than {MAX_TEXT_LENGTH} characters")
        attachments = _attachments(payload.get("attachments"))
        if not text.strip() and not attachments:
            raise PayloadMalformed("a message needs text or attachments")

        identities = [InboundIdentity(kind="api", value=f"{self.channel.public_id}:{sender_id}")]
        for kind in ("email", "phone"):
            value = sender.get(kind)
            if value is not None and not isinstance(value, str):
                raise PayloadMalformed(f"sender.{kind} must be a string")
            if value:
                identities.append(InboundIdentity(kind=kind, value=storable_line(value)))
        name = sender.get("name") or ""
        if not isinstance(name, str):
            raise PayloadMalformed("sender.name must be a string")
        name = storable_line(name)
        return [
            InboundMessage(
                external_id=external_id,
                recipient_address=sender_id,
                identities=tuple(identities),
                sender_name=name[:255],
                text=text,
                attachments=attachments,
                sent_at=_timestamp(payload.get("timestamp")),
            )
        ]

    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        return self._post_signed(
            {
                "event": "message.created",
                "id": outbound.message_id,
                "conversation_id": outbound.conversation_id,
                "recipient": {"id": outbound.recipient_address},
                "text": outbound.text,
                "author": {"name": outbound.author_name},
                "attachments": [
                    {
                        "filename": attachment.filename,
                        "content_type": attachment.content_type,
                        "size": attachment.size,
                        "url": attachment.url,
                    }
                    for attachment in outbound.attachments
                ],
            }
        )

    def send_survey(self, survey: OutboundSurvey) -> DeliveryResult:
        """A `csat.survey` event with the survey page's link, for the site to show its way."""
        return self._post_signed(
            {
                "event": "csat.survey",
                "conversation_id": survey.conversation_id,
                "recipient": {"id": survey.recipient_address},
                "question": survey.question,
                "survey_url": survey.url,
                "ratings": [
                    {"value": value, "label": label, "url": f"{survey.url}?rating={value}"}
                    for value, label in sorted(survey.rating_labels.items())
                ],
            }
        )

    def _post_signed(self, payload: dict[str, Any]) -> DeliveryResult:
        callback_url = self.channel.config.get("callback_url")
        if not callback_url:
            raise DeliveryFailed("the channel has no callback_url configured", is_retryable=False)
        secret = self.channel.secrets.get("secret")
        if not secret:
            raise DeliveryFailed("the channel has no secret to sign with", is_retryable=False)
        body = json.dumps(payload).encode()
        signature = hmac_sha256_hex(secret, body)
        try:
            response = http_client().post(
                callback_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Switchboard-Signature": f"sha256={signature}",
                },
            )
        except httpx.HTTPError as error:
            raise delivery_failure_for_transport(error, platform="callback URL") from error
        if response.status_code >= 300:
            raise delivery_failure_for_status(response, platform="callback URL")
        return DeliveryResult(external_id=_external_id_from(response))


def _required_id(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise PayloadMalformed(f"{name} must be a non-empty string or integer")
    text = str(value).strip()
    if text != storable_line(text):
        raise PayloadMalformed(f"{name} contains control characters or lone surrogates")
    if len(text) > 200:
        raise PayloadMalformed(f"{name} is longer than 200 characters")
    return text


def _attachments(value: Any) -> tuple[InboundAttachment, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 20:
        raise PayloadMalformed("attachments must be a list of at most 20 objects")
    result = []
    for index, item in enumerate(value):
        url = item.get("url") if isinstance(item, dict) else None
        if (
            not isinstance(url, str)
            or len(url) > MAX_URL_LENGTH
            or url != storable_line(url)
            or urlsplit(url).scheme not in ("http", "https")
        ):
            raise PayloadMalformed(
                f"attachments[{index}].url must be an http(s) URL of at most "
                f"{MAX_URL_LENGTH} characters"
            )
        filename = item.get("filename") or url.rsplit("/", 1)[-1] or "attachment"
        content_type = item.get("content_type") or "application/octet-stream"
        size = item.get("size") or 0
        if not isinstance(filename, str) or not isinstance(content_type, str):
            raise PayloadMalformed(f"attachments[{index}] filename/content_type must be strings")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
            raise PayloadMalformed(f"attachments[{index}].size must be a byte count")
        result.append(
            InboundAttachment(
                filename=storable_line(filename)[:255],
                content_type=storable_line(content_type)[:255],
                url=url,
                size=size,
            )
        )
    return tuple(result)


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, tz=UTC)
        elif isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
        else:
            raise PayloadMalformed("timestamp must be an ISO 8601 string or a Unix time")
    except (ValueError, OverflowError, OSError) as error:
        raise PayloadMalformed(f"timestamp is not a valid time: {error}") from error
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise PayloadMalformed(f"timestamp must lie between the years {MIN_YEAR} and {MAX_YEAR}")
    return moment


def _external_id_from(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str | int):
        return str(data["id"])
    return None
