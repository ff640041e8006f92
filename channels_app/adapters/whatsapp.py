"""WhatsApp Business Cloud API: Meta's signed webhooks in, Graph API calls out."""

import base64
import hashlib
import hmac
import logging
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from django.utils.translation import gettext

from channels_app.adapters.base import ChannelAdapter, check_sha256_signature, parse_json_object
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryProgress,
    DeliveryResult,
    DeliveryStatusUpdate,
    InboundAttachment,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
    MediaContent,
    OutboundAttachment,
    OutboundMessage,
    OutboundSurvey,
    PayloadMalformed,
    SignatureInvalid,
    VerificationAnswer,
    WebhookRequest,
)
from channels_app.http import http_client
from channels_app.text import storable_text

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v26.0"
SIGNATURE_HEADER = "x-hub-signature-256"

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
WINDOW_CLOSED_REASON = (
    "outside WhatsApp's 24-hour customer service window: the customer has not written in "
    "the last 24 hours; send an approved template"
)
ACCESS_TOKEN_INVALID_REASON = (
    "WhatsApp access token invalid or expired: create a new permanent (system user) token "
    "and update the channel's access_token"
)

# Meta's limits for a text message and for a media caption.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_TEMPLATE_PARAMETER_LENGTH = 1024
# The largest file WhatsApp carries (documents) is 100 MB.
MAX_MEDIA_BYTES = 100 * 1024 * 1024
MAX_ID_LENGTH = 255

DELIVERY_STATUSES = frozenset({"sent", "delivered", "read", "failed"})
MEDIA_MESSAGE_TYPES = ("image", "document", "audio", "video", "sticker")
CAPTIONED_MEDIA_TYPES = frozenset({"image", "video", "document"})

# Graph API error codes (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
ACCESS_TOKEN_ERROR_CODE = 190
REENGAGEMENT_ERROR_CODE = 131047
PAIR_RATE_LIMIT_ERROR_CODE = 131056
RATE_LIMIT_ERROR_CODES = frozenset({4, 80007, 130429, PAIR_RATE_LIMIT_ERROR_CODE})
TEMPORARY_ERROR_CODES = frozenset({1, 2, 131000, 131016, 133004})
# Meta allows one message every six seconds to the same customer.
PAIR_RATE_LIMIT_SECONDS = 6.0

_WA_ID = re.compile(r"[0-9]{5,20}")
_MEDIA_ID = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_CONTENT_DISPOSITION_FILENAME = re.compile(
    r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.IGNORECASE
)
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "video/mp4": "mp4",
    "video/3gpp": "3gp",
    "application/pdf": "pdf",
    "text/plain": "txt",
}


class WhatsAppAdapter(ChannelAdapter):
    """Meta's WhatsApp Business Cloud API.

    Inbound: the `messages` webhook field, signed with `X-Hub-Signature-256` (HMAC-SHA256 of
    the raw body with the app secret); Meta's GET handshake is answered with the verify
    token. Customers are known by their WhatsApp id (`wa_id`, which is also their phone
    number) and, since 2026, by a business-scoped user id that stays when the phone is
    hidden behind a username. Outbound: the Graph API `/<phone_number_id>/messages`
    endpoint; outside the 24-hour customer service window only the configured approved
    template may be sent. Media the customer sends is fetched later by `fetch_media`.
    """

    kind = "whatsapp"
    sends_surveys_in_parallel = True
    # The Cloud API's default throughput is 80 messages a second per business number.
    survey_sends_per_second = 70.0
    public_config_keys = ("phone_number_id", "api_base_url", "fallback_template")
    secret_config_keys = ("access_token", "app_secret", "verify_token")
    required_config_keys = ("phone_number_id", "access_token", "app_secret", "verify_token")

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        number = public.get("phone_number_id")
        # A string: the ids run to 16 digits, more than a JavaScript number holds exactly.
        if number is not None and not (
            isinstance(number, str) and number.isascii() and number.isdigit()
        ):
            errors["phone_number_id"] = "must be the numeric id Meta shows, given as a string"
        url = public.get("api_base_url")
        if url is not None and not _is_http_url(url):
            errors["api_base_url"] = "must be an http(s) URL"
        template = public.get("fallback_template")
        if template is not None:
            problem = _fallback_template_problem(template)
            if problem:
                errors["fallback_template"] = problem
        return errors

    # Inbound

    def answer_verification(self, request: WebhookRequest) -> VerificationAnswer:
        expected = self.channel.secrets.get("verify_token")
        if not expected:
            raise SignatureInvalid("the channel has no verify_token configured", status_code=403)
        mode = request.query.get("hub.mode")
        token = request.query.get("hub.verify_token")
        challenge = request.query.get("hub.challenge")
        if mode != "subscribe" or token is None or not challenge:
            raise SignatureInvalid(
                "expected hub.mode=subscribe, hub.verify_token and hub.challenge",
                status_code=403,
            )
        if not hmac.compare_digest(token.encode(), expected.encode()):
            raise SignatureInvalid("hub.verify_token does not match", status_code=403)
        if len(challenge) > 200:
            raise SignatureInvalid("hub.challenge is too long", status_code=403)
        return VerificationAnswer(status_code=200, body=challenge, content_type="text/plain")

    def verify(self, request: WebhookRequest) -> None:
        check_sha256_signature(
            header_value=request.headers.get(SIGNATURE_HEADER),
            secret=self.channel.secrets.get("app_secret"),
            body=request.body,
        )

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        payload = parse_json_object(request.body)
        if payload.get("object") != "whatsapp_business_account":
            return []
        events: list[InboundEvent] = []
        for entry in _list(payload.get("entry"), "entry"):
            for change in _list(_object(entry, "entry[]").get("changes"), "entry[].changes"):
                change = _object(change, "entry[].changes[]")
                if change.get("field") != "messages":
                    continue
                value = _object(change.get("value"), "changes[].value")
                if not self._is_for_this_number(value):
                    continue
                events.extend(_inbound_messages(value))
                events.extend(_status_updates(value))
        return events

    def _is_for_this_number(self, value: dict[str, Any]) -> bool:
        # One Meta app may serve several numbers through one callback URL: a change for
        # another number belongs to another channel, and replies must not leave from ours.
        metadata = value.get("metadata")
        ours = self.channel.config.get("phone_number_id")
        theirs = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        if ours and isinstance(theirs, str | int) and str(theirs) != ours:
            logger.info(
                "WhatsApp channel %s ignored a change for another phone number id",
                self.channel.pk,
            )
            return False
        return True

    # Outbound

    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        already_sent = outbound.already_sent
        if not _is_window_open(outbound.customer_last_message_at):
            template = self.channel.config.get("fallback_template")
            # A template in place of the rest of a reply begun in the window would read
            # as a second message.
            if not template or already_sent.parts_sent:
                raise DeliveryFailed(WINDOW_CLOSED_REASON, is_retryable=False)
            return DeliveryResult(
                external_id=self._post_message(_template_payload(outbound, template))
            )
        payloads = _session_payloads(outbound)
        first_id = already_sent.first_external_id
        # Parts an earlier try sent are not sent again.
        for index in range(already_sent.parts_sent, len(payloads)):
            try:
                message_id = self._post_message(payloads[index])
            except DeliveryFailed as failure:
                if index == 0:
                    raise
                raise DeliveryFailed(
                    f"sent {index} of {len(payloads)} parts, then: {failure.reason}",
                    is_retryable=failure.is_retryable,
                    retry_after=failure.retry_after,
                    progress=DeliveryProgress(parts_sent=index, first_external_id=first_id),
                ) from failure
            first_id = first_id or message_id
        return DeliveryResult(external_id=first_id)

    def send_survey(self, survey: OutboundSurvey) -> DeliveryResult:
        """The CSAT question as an interactive list of the five ratings; the chosen row
        comes back as a list_reply whose id is the rating's button payload."""
        if not _is_window_open(survey.customer_last_message_at):
            raise DeliveryFailed(WINDOW_CLOSED_REASON, is_retryable=False)
        rows = [
            {"id": survey.button_payloads[rating], "title": f"{rating} - {label}"[:24]}
            for rating, label in sorted(survey.rating_labels.items(), reverse=True)
        ]
        payload = {
            **_addressed(survey.recipient_address),
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": survey.question[:1024]},
                "action": {
                    "button": gettext("Rate us")[:20],
                    "sections": [{"title": gettext("Your rating")[:24], "rows": rows}],
                },
            },
        }
        return DeliveryResult(external_id=self._post_message(payload))

    def fetch_media(self, media_id: str) -> MediaContent:
        if not _MEDIA_ID.fullmatch(media_id) or media_id in (".", ".."):
            raise DeliveryFailed("not a WhatsApp media id", is_retryable=False)
        metadata = self._get_json(f"{self._api_base_url()}/{media_id}", action="media lookup")
        url = metadata.get("url")
        if not isinstance(url, str) or not self._may_receive_token(url):
            raise DeliveryFailed(
                "WhatsApp gave no https download URL for the media", is_retryable=False
            )
        declared_size = _integer(metadata.get("file_size"))
        if declared_size is not None and declared_size > MAX_MEDIA_BYTES:
            raise DeliveryFailed(
                f"the file is over {MAX_MEDIA_BYTES} bytes ({declared_size})", is_retryable=False
            )
        content, header_type, disposition = self._download(url)
        checksum = metadata.get("sha256")
        if isinstance(checksum, str) and checksum and not _checksum_matches(content, checksum):
            raise DeliveryFailed(
                "the downloaded media does not match WhatsApp's checksum", is_retryable=True
            )
        mime_type = metadata.get("mime_type")
        return MediaContent(
            content=content,
            content_type=(mime_type if isinstance(mime_type, str) and mime_type else header_type)
            or "application/octet-stream",
            # Empty unless the download names the file: the name the webhook gave is kept.
            filename=_filename_from_disposition(disposition),
        )

    # Graph API calls

    def _api_base_url(self) -> str:
        return str(self.channel.config.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")

    def _authorization(self) -> dict[str, str]:
        token = self.channel.secrets.get("access_token")
        if not token:
            raise DeliveryFailed("the channel has no access_token configured", is_retryable=False)
        return {"Authorization": f"Bearer {token}"}

    def _may_receive_token(self, url: str) -> bool:
        # The bearer token goes only over https, or to the configured API host itself
        # (a local stand-in for the Graph API, say).
        target, base = urlsplit(url), urlsplit(self._api_base_url())
        if target.scheme == "https" and target.netloc:
            return True
        return (target.scheme, target.netloc) == (base.scheme, base.netloc)

    def _post_message(self, payload: dict[str, Any]) -> str | None:
        number = quote(str(self.channel.config.get("phone_number_id", "")), safe="")
        url = f"{self._api_base_url()}/{number}/messages"
        headers = self._authorization()
        try:
            response = http_client().post(url, json=payload, headers=headers)
        except httpx.HTTPError as error:
            raise self._transport_failure(error, action="send") from error
        if response.status_code >= 300:
            raise self._graph_failure(response, action="send")
        return _sent_message_id(response)

    def _get_json(self, url: str, *, action: str) -> dict[str, Any]:
        headers = self._authorization()
        try:
            response = http_client().get(url, headers=headers)
        except httpx.HTTPError as error:
            raise self._transport_failure(error, action=action) from error
        if response.status_code >= 300:
            raise self._graph_failure(response, action=action)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise DeliveryFailed(f"WhatsApp {action} answered no JSON object", is_retryable=True)
        return data

    def _download(self, url: str) -> tuple[bytes, str, str]:
        headers = self._authorization()
        try:
            with http_client().stream("GET", url, headers=headers) as response:
                if response.status_code >= 300:
                    response.read()
                    raise self._graph_failure(response, action="media download")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_MEDIA_BYTES:
                        raise DeliveryFailed(
                            f"the file is over {MAX_MEDIA_BYTES} bytes", is_retryable=False
                        )
                    chunks.append(chunk)
                return (
                    b"".join(chunks),
                    response.headers.get("content-type", ""),
                    response.headers.get("content-disposition", ""),
                )
        except httpx.HTTPError as error:
            raise self._transport_failure(error, action="media download") from error

    def _transport_failure(self, error: httpx.HTTPError, *, action: str) -> DeliveryFailed:
        reason = f"WhatsApp Cloud API unreachable ({action}): {type(error).__name__}: {error}"
        return DeliveryFailed(self._without_token(reason), is_retryable=True)

    def _graph_failure(self, response: httpx.Response, *, action: str) -> DeliveryFailed:
        """Tell retryable Graph API errors (rate limits, outages) from final ones."""
        error = _graph_error(response)
        code = _integer(error.get("code"))
        message = _clean(error.get("message"))
        error_data = error.get("error_data")
        details = _clean(error_data.get("details")) if isinstance(error_data, dict) else ""
        status = response.status_code
        described = f"WhatsApp {action} failed: HTTP {status}"
        if code is not None:
            described += f", error {code}"
        explanation = " - ".join(part for part in (message, details) if part)
        if not explanation and not error:
            explanation = response.text[:300]
        if explanation:
            described += f": {explanation}"
        reason = self._without_token(described[:1000])

        if code == REENGAGEMENT_ERROR_CODE:
            return DeliveryFailed(WINDOW_CLOSED_REASON, is_retryable=False)
        if status == 401 or code == ACCESS_TOKEN_ERROR_CODE:
            return DeliveryFailed(f"{ACCESS_TOKEN_INVALID_REASON} ({reason})", is_retryable=False)
        if status == 429 or code in RATE_LIMIT_ERROR_CODES:
            retry_after = _retry_after(response)
            if code == PAIR_RATE_LIMIT_ERROR_CODE:
                retry_after = max(retry_after or 0.0, PAIR_RATE_LIMIT_SECONDS)
            return DeliveryFailed(reason, is_retryable=True, retry_after=retry_after)
        if status >= 500 or code in TEMPORARY_ERROR_CODES:
            return DeliveryFailed(reason, is_retryable=True, retry_after=_retry_after(response))
        return DeliveryFailed(reason, is_retryable=False)

    def _without_token(self, text: str) -> str:
        token = self.channel.secrets.get("access_token")
        return text.replace(token, "[access token]") if token else text


# Reading webhooks


@dataclass(frozen=True)
class _Content:
    text: str = ""
    attachments: tuple[InboundAttachment, ...] = ()
    button_payload: str = ""


def _inbound_messages(value: dict[str, Any]) -> list[InboundMessage]:
    contacts = [
        contact
        for contact in _list(value.get("contacts"), "changes[].value.contacts")
        if isinstance(contact, dict)
    ]
    result = []
    for item in _list(value.get("messages"), "changes[].value.messages"):
        message = _object(item, "messages[]")
        external_id = _required_id(message.get("id"), "messages[].id")
        message_type = _clean(message.get("type"))[:50] or "unknown"
        content = _content(message_type, message)
        if content is None:
            continue
        identities, recipient_address, sender_name = _sender(message, contacts)
        result.append(
            InboundMessage(
                external_id=external_id,
                recipient_address=recipient_address,
                identities=identities,
                sender_name=sender_name[:255],
                text=content.text,
                attachments=content.attachments,
                sent_at=_timestamp(message.get("timestamp")),
                button_payload=content.button_payload,
            )
        )
    return result


def _sender(
    message: dict[str, Any], contacts: list[dict[str, Any]]
) -> tuple[tuple[InboundIdentity, ...], str, str]:
    """The customer's identities, where replies go, and their profile name.

    The phone (wa_id) comes first when Meta gives it. A customer who adopted a username may
    come without one: the business-scoped user id is then the stable key and the address.
    """
    phone = _optional_id(message.get("from"), "messages[].from")
    user_id = _optional_id(message.get("from_user_id"), "messages[].from_user_id")
    contact = _contact_for(phone, user_id, contacts)
    name = ""
    if contact is not None:
        phone = _optional_id(contact.get("wa_id"), "contacts[].wa_id") or phone
        user_id = _optional_id(contact.get("user_id"), "contacts[].user_id") or user_id
        profile = contact.get("profile")
        if isinstance(profile, dict):
            name = _clean(profile.get("name")) or _clean(profile.get("username"))
    identities = []
    if phone:
        identities.append(InboundIdentity(kind="whatsapp", value=phone))
        if _WA_ID.fullmatch(phone):
            identities.append(InboundIdentity(kind="phone", value=f"+{phone}"))
    if user_id:
        identities.append(InboundIdentity(kind="whatsapp_user", value=user_id))
    address = phone or user_id
    if not address:
        raise PayloadMalformed("a message needs its sender's wa_id or user_id")
    return tuple(identities), address, name.strip()


def _contact_for(phone: str, user_id: str, contacts: list[dict[str, Any]]) -> dict[str, Any] | None:
    for contact in contacts:
        if (phone and contact.get("wa_id") == phone) or (
            user_id and contact.get("user_id") == user_id
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else None


def _content(message_type: str, message: dict[str, Any]) -> _Content | None:
    """What the customer sent, as text, files and a chosen button; None to skip it."""
    if message_type in MEDIA_MESSAGE_TYPES:
        return _media_content(message_type, _object(message.get(message_type), message_type))
    if message_type == "request_welcome":
        # The customer opened the chat for the first time; they have said nothing yet.
        return None
    reader = _CONTENT_READERS.get(message_type)
    if reader is None:
        return _Content(text=f"[unsupported message type: {message_type}]")
    body = message.get(message_type)
    return reader(body if isinstance(body, dict) else {}, message)


def _text_content(body: dict[str, Any], message: dict[str, Any]) -> _Content:
    text = body.get("body")
    if not isinstance(text, str):
        raise PayloadMalformed("a text message needs text.body")
    return _Content(text=_clean(text))


def _media_content(message_type: str, media: dict[str, Any]) -> _Content:
    media_id = _required_id(media.get("id"), f"{message_type}.id")
    mime_type = _clean(media.get("mime_type"))[:255] or "application/octet-stream"
    filename = _safe_filename(media.get("filename")) if message_type == "document" else ""
    if not filename:
        filename = f"{message_type}.{_extension(mime_type)}"
    return _Content(
        text=_clean(media.get("caption")),
        attachments=(
            InboundAttachment(filename=filename, content_type=mime_type, media_id=media_id),
        ),
    )


def _location_content(location: dict[str, Any], message: dict[str, Any]) -> _Content:
    lines = [_clean(location.get(key)) for key in ("name", "address")]
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if _is_number(latitude) and _is_number(longitude):
        coordinates = f"{latitude},{longitude}"
        lines.append(coordinates.replace(",", ", "))
        lines.append(f"https://www.google.com/maps/search/?api=1&query={coordinates}")
    url = _clean(location.get("url"))
    if url:
        lines.append(url)
    text = "\n".join(line for line in lines if line)
    return _Content(text=f"Shared a location:\n{text}" if text else "Shared a location")


def _contacts_content(body: dict[str, Any], message: dict[str, Any]) -> _Content:
    # Contact cards a customer forwards describe somebody else: text, never an identity.
    cards = [card for card in _list(message.get("contacts"), "contacts") if isinstance(card, dict)]
    rendered = [_contact_card(card) for card in cards]
    return _Content(text="\n\n".join(rendered) if rendered else "Shared a contact")


def _contact_card(card: dict[str, Any]) -> str:
    name = card.get("name")
    full_name = _clean(name.get("formatted_name")) if isinstance(name, dict) else ""
    lines = [f"Shared contact: {full_name or 'no name'}"]
    for key, label, field in (("phones", "Phone", "phone"), ("emails", "Email", "email")):
        items = card.get(key)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and _clean(item.get(field)):
                kind = _clean(item.get("type"))
                lines.append(f"{label}: {_clean(item.get(field))}" + (f" ({kind})" if kind else ""))
    organization = card.get("org")
    if isinstance(organization, dict) and _clean(organization.get("company")):
        lines.append(f"Organization: {_clean(organization.get('company'))}")
    return "\n".join(lines)


def _interactive_content(interactive: dict[str, Any], message: dict[str, Any]) -> _Content:
    reply_type = _clean(interactive.get("type"))[:50]
    reply = interactive.get(reply_type) if reply_type in ("button_reply", "list_reply") else None
    if not isinstance(reply, dict):
        return _Content(text=f"[unsupported message type: interactive {reply_type or 'unknown'}]")
    reply_id, title = _clean(reply.get("id")), _clean(reply.get("title"))
    return _Content(text=title or reply_id, button_payload=reply_id)


def _button_content(button: dict[str, Any], message: dict[str, Any]) -> _Content:
    # A quick-reply button of a template we sent.
    payload, text = _clean(button.get("payload")), _clean(button.get("text"))
    return _Content(text=text or payload, button_payload=payload)


def _reaction_content(reaction: dict[str, Any], message: dict[str, Any]) -> _Content:
    emoji = _clean(reaction.get("emoji"))
    return _Content(text=f"Reacted {emoji}" if emoji else "Removed a reaction")


def _system_content(system: dict[str, Any], message: dict[str, Any]) -> _Content:
    return _Content(text=_clean(system.get("body")) or "[system message]")


def _unsupported_content(unsupported: dict[str, Any], message: dict[str, Any]) -> _Content:
    kind = _clean(unsupported.get("type"))[:50]
    if not kind:
        errors = message.get("errors")
        first = errors[0] if isinstance(errors, list) and errors else None
        kind = _clean(first.get("title"))[:100] if isinstance(first, dict) else ""
    return _Content(text=f"[unsupported message type: {kind or 'unknown'}]")


_CONTENT_READERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], _Content]] = {
    "text": _text_content,
    "location": _location_content,
    "contacts": _contacts_content,
    "interactive": _interactive_content,
    "button": _button_content,
    "reaction": _reaction_content,
    "system": _system_content,
    "unsupported": _unsupported_content,
}


def _status_updates(value: dict[str, Any]) -> list[DeliveryStatusUpdate]:
    updates = []
    for item in _list(value.get("statuses"), "changes[].value.statuses"):
        status = _object(item, "statuses[]")
        state = status.get("status")
        if not isinstance(state, str) or state not in DELIVERY_STATUSES:
            continue
        updates.append(
            DeliveryStatusUpdate(
                external_id=_required_id(status.get("id"), "statuses[].id"),
                status=state,
                error=_status_error(status) if state == "failed" else "",
            )
        )
    return updates


def _status_error(status: dict[str, Any]) -> str:
    """`<code> <title>: <details>`, as Meta explains why a message failed."""
    errors = status.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    if not isinstance(first, dict):
        return "WhatsApp reported the message as failed without a reason"
    code = _integer(first.get("code"))
    title = _clean(first.get("title"))
    message = _clean(first.get("message"))
    error_data = first.get("error_data")
    details = _clean(error_data.get("details")) if isinstance(error_data, dict) else ""
    head = f"{code} {title}".strip() if code is not None else title
    explanation = details or (message if message != title else "")
    text = f"{head}: {explanation}" if head and explanation else head or explanation
    return text[:2000] or "WhatsApp reported the message as failed without a reason"


# Building messages


def _is_window_open(customer_last_message_at: datetime | None) -> bool:
    if customer_last_message_at is None:
        return False
    if customer_last_message_at.tzinfo is None:
        customer_last_message_at = customer_last_message_at.replace(tzinfo=UTC)
    return datetime.now(UTC) - customer_last_message_at < CUSTOMER_SERVICE_WINDOW


def _addressed(recipient_address: str) -> dict[str, Any]:
    # A phone number (wa_id) goes in `to`; a business-scoped user id, the only address of
    # a customer who hides their number behind a username, in `recipient`.
    key = "to" if _WA_ID.fullmatch(recipient_address) else "recipient"
    return {"messaging_product": "whatsapp", "recipient_type": "individual", key: recipient_address}


def _session_payloads(outbound: OutboundMessage) -> list[dict[str, Any]]:
    """The requests for a free-form reply: its text, then its files (the first file may
    carry the text as its caption)."""
    text = outbound.text
    if len(text) > MAX_TEXT_LENGTH:
        raise DeliveryFailed(
            f"the reply is longer than WhatsApp's {MAX_TEXT_LENGTH} characters",
            is_retryable=False,
        )
    for attachment in outbound.attachments:
        if not _is_http_url(attachment.url):
            raise DeliveryFailed(
                f"attachment {attachment.filename} has no public http(s) URL WhatsApp can fetch",
                is_retryable=False,
            )
    media = [_media_payload(outbound.recipient_address, item) for item in outbound.attachments]
    has_text = bool(text.strip())
    if (
        has_text
        and media
        and len(text) <= MAX_CAPTION_LENGTH
        and media[0]["type"] in CAPTIONED_MEDIA_TYPES
    ):
        media[0][media[0]["type"]]["caption"] = text
        return media
    if has_text:
        return [_text_payload(outbound.recipient_address, text), *media]
    if not media:
        raise DeliveryFailed("the reply has neither text nor attachments", is_retryable=False)
    return media


def _text_payload(recipient_address: str, text: str) -> dict[str, Any]:
    return {**_addressed(recipient_address), "type": "text", "text": {"body": text}}


def _media_payload(recipient_address: str, attachment: OutboundAttachment) -> dict[str, Any]:
    content_type = attachment.content_type.split(";")[0].strip().lower()
    media_type = "document"
    for prefix in ("image", "video", "audio"):
        if content_type.startswith(f"{prefix}/"):
            media_type = prefix
    media: dict[str, Any] = {"link": attachment.url}
    if media_type == "document":
        media["filename"] = attachment.filename
    return {**_addressed(recipient_address), "type": media_type, media_type: media}


def _template_payload(outbound: OutboundMessage, template: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"name": template["name"], "language": {"code": template["language"]}}
    text = " ".join(outbound.text.split())
    if template.get("text_parameter") and text:
        # Template parameters may not hold line breaks, tabs or runs of spaces.
        if len(text) > MAX_TEMPLATE_PARAMETER_LENGTH:
            text = text[: MAX_TEMPLATE_PARAMETER_LENGTH - 1] + "…"
        body["components"] = [{"type": "body", "parameters": [{"type": "text", "text": text}]}]
    return {**_addressed(outbound.recipient_address), "type": "template", "template": body}


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


# Reading Graph API answers


def _sent_message_id(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    messages = data.get("messages") if isinstance(data, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    message_id = first.get("id") if isinstance(first, dict) else None
    return message_id if isinstance(message_id, str) and message_id else None


def _graph_error(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _checksum_matches(content: bytes, checksum: str) -> bool:
    digest = hashlib.sha256(content).digest()
    # Meta has given the SHA-256 both as hex and as base64.
    return hmac.compare_digest(checksum.strip().lower(), digest.hex()) or hmac.compare_digest(
        checksum.strip(), base64.b64encode(digest).decode()
    )


def _filename_from_disposition(disposition: str) -> str:
    match = _CONTENT_DISPOSITION_FILENAME.search(disposition)
    return _safe_filename(match.group(1)) if match else ""


# Small readers


def _list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadMalformed(f"{name} must be a list")
    return value


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadMalformed(f"{name} must be an object")
    return value


def _required_id(value: Any, name: str) -> str:
    text = _optional_id(value, name)
    if not text:
        raise PayloadMalformed(f"{name} must be a non-empty string")
    return text


def _optional_id(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadMalformed(f"{name} must be a string")
    text = str(value).strip()
    if "\x00" in text or not _is_encodable(text):
        raise PayloadMalformed(f"{name} contains a NUL character or a lone surrogate")
    if len(text) > MAX_ID_LENGTH:
        raise PayloadMalformed(f"{name} is longer than {MAX_ID_LENGTH} characters")
    return text


def _clean(value: Any) -> str:
    # Display text: anything but a string reads as empty.
    return storable_text(value).strip() if isinstance(value, str) else ""


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _safe_filename(value: Any) -> str:
    name = _clean(value).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "" if name in ("", ".", "..") else name[:255]


def _extension(mime_type: str) -> str:
    base = mime_type.split(";")[0].strip().lower()
    guessed = mimetypes.guess_extension(base) if base else None
    return _EXTENSIONS.get(base) or (guessed or ".bin").lstrip(".")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    return None


def _timestamp(value: Any) -> datetime | None:
    seconds = _integer(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
