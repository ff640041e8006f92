"""The website chat widget: visitors talk over a websocket, operators answer through it."""

import hmac
import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone, translation
from django.utils.translation import gettext

from channels_app.adapters.base import ChannelAdapter
from channels_app.adapters.email import EmailAdapter
from channels_app.adapters.payload import JsonObject
from channels_app.adapters.survey_forms import question_as_shown
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
    SignatureInvalid,
    WebhookRequest,
)
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.models import Channel
from channels_app.widget import realtime as widget_realtime
from channels_app.widget.visitors import frame_signature
from customers.languages import reader_language

logger = logging.getLogger(__name__)

FRAME_SIGNATURE_HEADER = "x-switchboard-widget-signature"
MAX_TEXT_LENGTH = 5_000
MAX_LANGUAGE_LENGTH = 16
# What a visitor may upload in one file; the file then travels base64 inside the frame.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Visitors' files lie with every other attachment (inbox.Attachment.file's directory).
WIDGET_UPLOADS_DIRECTORY = "attachments/"
IDENTITY_KIND = "webchat"


def visitor_identity_value(public_id: object, visitor_id: str) -> str:
    return f"{public_id}:{visitor_id}"


def user_identity_value(public_id: object, user_id: str) -> str:
    # Visitor ids are hex tokens, so the `user:` infix keeps the two apart.
    return f"{public_id}:user:{user_id}"


def outbound_external_id(message_id: int) -> str:
    return f"webchat-out-{message_id}"


def normalized_origin(value: str) -> str | None:
    """`scheme://host[:port]` lower-cased, default ports dropped; None if not an origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


class WebchatAdapter(ChannelAdapter):
    """Inbound: frames the widget socket built and signed (channels_app.widget), stored
    through the same flow as webhooks. Outbound: pushed to the visitor's socket group;
    the message is already in the database, so a visitor who is away reads it on return.

    The visitor id is ours (signed token), hence a verified identity. A name or email from
    the pre-chat form is a claim; a site user whose id the site signed with the channel's
    `identity_secret` is verified, and so is the email when the site signed it too.
    """

    kind = "webchat"
    public_config_keys = (
        "allowed_origins",
        "color",
        "greeting",
        "company_name",
        "prechat_form",
        "offline_message",
        "fallback_email_channel",
    )
    secret_config_keys = ("identity_secret",)
    required_config_keys = ("allowed_origins",)
    uses_customer_email = True
    uses_customer_language = True

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        origins = public.get("allowed_origins")
        if origins is not None:
            if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
                errors["allowed_origins"] = "must be a list of origins"
            elif any(normalized_origin(origin) is None for origin in origins):
                errors["allowed_origins"] = "each must be scheme://host[:port], nothing more"
        color = public.get("color")
        if color is not None and not (
            isinstance(color, str)
            and len(color) == 7
            and color.startswith("#")
            and all(c in "0123456789abcdefABCDEF" for c in color[1:])
        ):
            errors["color"] = "must be a #rrggbb colour"
        for key in ("greeting", "company_name", "offline_message"):
            if key in public and not isinstance(public[key], str):
                errors[key] = "must be a string"
        if "prechat_form" in public and not isinstance(public["prechat_form"], bool):
            errors["prechat_form"] = "must be true or false"
        fallback = public.get("fallback_email_channel")
        if fallback is not None and (
            not isinstance(fallback, int)
            or isinstance(fallback, bool)
            or not Channel.objects.filter(pk=fallback, kind="email").exists()
        ):
            errors["fallback_email_channel"] = "must be the id of an email channel"
        return errors

    def allows_origin(self, origin: str | None) -> bool:
        if not origin:
            return False
        wanted = normalized_origin(origin)
        allowed = {normalized_origin(o) for o in self.channel.config.get("allowed_origins", [])}
        return wanted is not None and wanted in allowed

    def verify(self, request: WebhookRequest) -> None:
        received = request.headers.get(FRAME_SIGNATURE_HEADER, "")
        expected = frame_signature(public_id=str(self.channel.public_id), body=request.body)
        if not received or not hmac.compare_digest(received.encode(), expected.encode()):
            raise SignatureInvalid("widget messages come through the widget socket only")

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        frame = JsonObject.from_body(request.body)
        visitor_id = frame.string("visitor_id")
        client_id = frame.string("client_id")
        if not visitor_id or not client_id:
            raise PayloadMalformed("visitor_id and client_id are required")
        text = frame.string("text", max_length=MAX_TEXT_LENGTH)
        button_payload = frame.string("button_payload")
        attachments = _attachments(frame)
        if not text.strip() and not button_payload and not attachments:
            raise PayloadMalformed("a message needs text")
        public_id = self.channel.public_id
        visitor_identity = InboundIdentity(
            kind=IDENTITY_KIND, value=visitor_identity_value(public_id, visitor_id)
        )
        user_id = frame.string("user_id")
        email = frame.string("email")
        identities: list[InboundIdentity] = []
        if user_id:
            # The site's own user id first: it decides the customer on any device.
            identities.append(
                InboundIdentity(kind=IDENTITY_KIND, value=user_identity_value(public_id, user_id))
            )
            if email:
                identities.append(
                    InboundIdentity(
                        kind="email", value=email, is_verified=frame.boolean("email_verified")
                    )
                )
            identities.append(visitor_identity)
        else:
            identities.append(visitor_identity)
            if email:
                identities.append(InboundIdentity(kind="email", value=email, is_verified=False))
        return [
            InboundMessage(
                external_id=f"webchat:{visitor_id}:{client_id}",
                recipient_address=visitor_id,
                conversation_per_address=True,
                identities=tuple(identities),
                sender_name=frame.line("name"),
                sender_language=frame.line("language", max_length=MAX_LANGUAGE_LENGTH),
                text=text,
                attachments=attachments,
                button_payload=button_payload,
                sent_at=frame.timestamp("sent_at"),
            )
        ]

    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        self._push(
            outbound.recipient_address,
            {
                "type": "message",
                "message": {
                    "id": outbound.message_id,
                    "direction": "out",
                    "body": outbound.text,
                    "author": {"name": outbound.author_name},
                    "created_at": datetime.now(tz=UTC).isoformat().replace("+00:00", "Z"),
                    "attachments": [
                        {
                            "filename": attachment.filename,
                            "content_type": attachment.content_type,
                            "size": attachment.size,
                            "url": attachment.url,
                        }
                        for attachment in outbound.attachments
                    ],
                },
            },
        )
        if outbound.customer_email and not widget_realtime.visitor_is_online(
            channel_id=self.channel.pk, visitor_id=outbound.recipient_address
        ):
            self._copy_by_email(outbound)
        return DeliveryResult(external_id=outbound_external_id(outbound.message_id))

    def _copy_by_email(self, outbound: OutboundMessage) -> None:
        """The visitor has left: the reply also goes to the email they gave, through the
        channel's fallback email channel (retried with the message if the mail fails)."""
        email_channel = Channel.objects.filter(
            pk=self.channel.config.get("fallback_email_channel") or 0,
            kind="email",
            is_active=True,
        ).first()
        if email_channel is None:
            return
        company = self.channel.config.get("company_name") or self.channel.name
        language = reader_language(outbound.customer_language, self.channel.config.get("language"))
        with translation.override(language):
            subject = gettext("Your chat with %(company)s") % {"company": company}
            text = gettext(
                "%(reply)s\n\n(You wrote to us in the chat on our website; reply to this "
                "email or come back to the chat.)"
            ) % {"reply": outbound.text}
        EmailAdapter(email_channel).send(
            replace(
                outbound,
                message_id=0,
                recipient_address=outbound.customer_email,
                subject=subject,
                text=text,
                thread_references=(),
            )
        )

    def send_survey(self, survey: OutboundSurvey) -> DeliveryResult:
        """A rating card with a button per value of the scale; the answer comes back as a
        `rating` frame."""
        self._push(
            survey.recipient_address,
            {
                "type": "rating_request",
                "survey": survey.survey_id,
                "kind": survey.kind,
                "question": question_as_shown(survey),
                "ratings": [
                    {"value": value, "label": label, "payload": survey.button_payloads[value]}
                    for value, label in sorted(survey.rating_labels.items())
                ],
            },
        )
        return DeliveryResult(external_id=f"webchat-survey-{survey.survey_id}")

    def _push(self, visitor_id: str, payload: dict[str, Any]) -> None:
        try:
            widget_realtime.visitor_send_now(
                channel_id=self.channel.pk, visitor_id=visitor_id, payload=payload
            )
        except (OSError, ConnectionError) as error:
            logger.warning("website chat: channel layer unreachable: %s", error)
            raise DeliveryFailed(
                FailureReason.of(FailureCode.WIDGET_UNREACHABLE), is_retryable=True
            ) from error


def _attachments(frame: JsonObject) -> tuple[InboundAttachment, ...]:
    """Files the widget's upload endpoint checked (type, size) and saved to our storage
    (`stored_name`); frames stored before uploads were saved first carry the bytes."""
    result = []
    for item in frame.objects("attachments"):
        filename = item.line("filename") or "attachment"
        content_type = item.line("content_type") or "application/octet-stream"
        stored_name = item.line("stored_name")
        if stored_name:
            if not is_widget_upload_name(stored_name):
                raise PayloadMalformed("an attachment names a file outside the widget's uploads")
            result.append(
                InboundAttachment(
                    filename=filename,
                    content_type=content_type,
                    stored_name=stored_name,
                    size=item.integer("size") or 0,
                )
            )
            continue
        content = item.base64("content_base64", max_bytes=MAX_UPLOAD_BYTES)
        result.append(
            InboundAttachment(
                filename=filename, content_type=content_type, content=content, size=len(content)
            )
        )
    return tuple(result)


def widget_upload_name(filename: str) -> str:
    """Where a visitor's file is kept: beside every attachment, under a name of its own."""
    return (
        timezone.now().strftime(f"{WIDGET_UPLOADS_DIRECTORY}%Y/%m/{uuid.uuid4().hex}-") + filename
    )


def is_widget_upload_name(name: str) -> bool:
    return name.startswith(WIDGET_UPLOADS_DIRECTORY) and ".." not in name and "\\" not in name
