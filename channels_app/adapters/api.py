"""The generic API channel: our own signed JSON in, signed JSON POSTed out."""

import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from channels_app.adapters.base import (
    ChannelAdapter,
    check_switchboard_signature,
    required_secret,
    switchboard_signature,
)
from channels_app.adapters.payload import MAX_STRING_LENGTH, JsonObject
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryResult,
    InboundAttachment,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
    MediaContent,
    OutboundMessage,
    OutboundSurvey,
    PayloadMalformed,
    WebhookRequest,
)
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.http import (
    body_within_limit,
    delivery_failure_for_status,
    delivery_failure_for_transport,
    http_client,
)
from channels_app.text import storable_line

MAX_URL_LENGTH = 2000  # what an attachment keeps of a link
# Links up to this long are fetched into our storage (the length a media id may have);
# longer ones stay links.
MAX_FETCHED_URL_LENGTH = 500
MAX_ATTACHMENTS = 20


class ApiAdapter(ChannelAdapter):
    """Inbound: `{"id", "sender": {"id", "name", "email"?, "phone"?}, "text", "attachments"?,
    "timestamp"?}` signed with `X-Switchboard-Signature: sha256=<hex HMAC of the raw body>`.
    Outbound: the reply as JSON POSTed, signed the same way, to the channel's callback URL.
    The channel vouches for the sender, so the email and phone it gives are verified identities.
    """

    kind = "api"
    # The callback gets our message id, the same on every try, for its receiver to dedup.
    deduplicates_resends = True
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
        payload = JsonObject.from_body(request.body)
        external_id = payload.required_id("id")
        sender = payload.required_object("sender")
        sender_id = sender.required_id("id")
        text = payload.string("text")
        attachments = _attachments(payload)
        if not text.strip() and not attachments:
            raise PayloadMalformed("a message needs text or attachments")

        identities = [InboundIdentity(kind="api", value=f"{self.channel.public_id}:{sender_id}")]
        for kind in ("email", "phone"):
            # An address longer than mail or phones carry is no identity; the rest is kept.
            value = sender.line(kind, max_length=MAX_STRING_LENGTH)
            if value:
                identities.append(InboundIdentity(kind=kind, value=value))
        return [
            InboundMessage(
                external_id=external_id,
                recipient_address=sender_id,
                identities=tuple(identities),
                sender_name=sender.line("name"),
                text=text,
                attachments=attachments,
                sent_at=payload.timestamp("timestamp"),
            )
        ]

    def fetch_media(self, media_id: str) -> MediaContent:
        """Download a file the site's message links to (`attachments[].url`) into our
        storage, through the outbound guard and no larger than REMOTE_ATTACHMENT_MAX_BYTES:
        operators' browsers then never load the customer's link themselves. The type and
        name the message gave are kept."""
        if urlsplit(media_id).scheme not in ("http", "https"):
            raise DeliveryFailed("not an http(s) link", is_retryable=False)
        try:
            with http_client().stream("GET", media_id) as response:
                if response.status_code >= 300:
                    raise DeliveryFailed(
                        f"the link answered HTTP {response.status_code}",
                        is_retryable=response.status_code >= 500 or response.status_code == 429,
                    )
                content = body_within_limit(
                    response, max_bytes=settings.REMOTE_ATTACHMENT_MAX_BYTES
                )
        except httpx.HTTPError as error:
            raise DeliveryFailed(
                f"the link could not be fetched ({type(error).__name__})", is_retryable=True
            ) from error
        return MediaContent(content=content, content_type="", filename="")

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
                "kind": survey.kind,
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
            raise DeliveryFailed(
                FailureReason.of(FailureCode.SETTING_MISSING, setting="callback_url"),
                is_retryable=False,
            )
        secret = required_secret(self.channel, "secret")
        body = json.dumps(payload).encode()
        try:
            response = http_client().post(
                callback_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Switchboard-Signature": switchboard_signature(secret, body),
                },
            )
        except httpx.HTTPError as error:
            raise delivery_failure_for_transport(error, platform="") from error
        if response.status_code >= 300:
            raise delivery_failure_for_status(response, platform="")
        return DeliveryResult(external_id=_external_id_from(response))


def _attachments(payload: JsonObject) -> tuple[InboundAttachment, ...]:
    result = []
    for item in payload.objects("attachments", max_items=MAX_ATTACHMENTS):
        url = item.string("url", max_length=MAX_URL_LENGTH)
        if url != storable_line(url) or urlsplit(url).scheme not in ("http", "https"):
            raise PayloadMalformed(
                f"{item.name('url')} must be an http(s) URL of at most {MAX_URL_LENGTH} characters"
            )
        result.append(
            InboundAttachment(
                filename=item.line("filename") or url.rsplit("/", 1)[-1][:255] or "attachment",
                content_type=item.line("content_type") or "application/octet-stream",
                url=url,
                size=item.integer("size", minimum=0) or 0,
                # Fetched into our storage by a task (fetch_media); until then, or if it
                # cannot be, operators see a plain link.
                media_id=url if len(url) <= MAX_FETCHED_URL_LENGTH else "",
            )
        )
    return tuple(result)


def _external_id_from(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str | int):
        return str(data["id"])
    return None
