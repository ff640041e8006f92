"""The email channel kind: raw RFC 5322 messages in (webhook, SMTP server, IMAP), SMTP out."""

from typing import Any

from channels_app.adapters.base import ChannelAdapter, check_switchboard_signature
from channels_app.adapters.email import addressing, inbound
from channels_app.adapters.email import outbound as outbound_mail
from channels_app.contracts import (
    ENVELOPE_SENDER_HEADER,
    DeliveryResult,
    InboundEvent,
    OutboundMessage,
    OutboundSurvey,
    WebhookRequest,
)


class EmailAdapter(ChannelAdapter):
    """Inbound mail arrives signed on the webhook (`X-Switchboard-Signature`, like the API
    channel), through `manage.py smtp_inbound`, or from an IMAP mailbox polled by beat
    (see inbound). Replies go through Django's mail backend: the channel's own SMTP server
    if it has one, the global EMAIL_* settings (or an anymail backend) otherwise (see
    outbound).
    """

    kind = "email"
    # A mail keeps its Message-ID across tries; receiving servers and clients drop a repeat.
    deduplicates_resends = True
    public_config_keys = (
        "address",
        "company_name",
        "smtp_host",
        "smtp_port",
        "smtp_username",
        "smtp_use_tls",
        "smtp_use_ssl",
        "imap_host",
        "imap_port",
        "imap_username",
        "imap_use_ssl",
        "imap_folder",
        "imap_processed_folder",
        "imap_poll_seconds",
        "relay_senders",
    )
    secret_config_keys = ("secret", "smtp_password", "imap_password")
    required_config_keys = ("address",)
    uses_thread_references = True

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        address = str(public.get("address") or "")
        if address and not addressing.is_email_address(address):
            errors["address"] = "must be an email address"
        elif "+" in address.partition("@")[0]:
            errors["address"] = "must not contain '+': replies use address+token"
        for key in ("smtp_port", "imap_port", "imap_poll_seconds"):
            value = public.get(key)
            if value is not None and (not isinstance(value, int) or value <= 0):
                errors[key] = "must be a positive integer"
        for key in ("smtp_use_tls", "smtp_use_ssl", "imap_use_ssl"):
            if key in public and not isinstance(public[key], bool):
                errors[key] = "must be true or false"
        relays = public.get("relay_senders")
        if relays is not None and (
            not isinstance(relays, list) or not all(isinstance(item, str) for item in relays)
        ):
            errors["relay_senders"] = "must be a list of addresses or @domains"
        return errors

    # Inbound

    def verify(self, request: WebhookRequest) -> None:
        check_switchboard_signature(self.channel, request)

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        inbound.content_type_check(request)
        return self.parse_raw(
            request.body, envelope_sender=request.headers.get(ENVELOPE_SENDER_HEADER, "")
        )

    def parse_raw(self, raw: bytes, *, envelope_sender: str = "") -> list[InboundEvent]:
        """Events of one raw message; `envelope_sender` (SMTP MAIL FROM) stands in for a
        From header that names no usable address."""
        return inbound.events_from_raw(self.channel, raw, envelope_sender=envelope_sender)

    # Addresses

    @property
    def address(self) -> str:
        return addressing.channel_address(self.channel)

    def accepts_recipient(self, recipient: str) -> bool:
        """Whether mail to this address is for the channel: its address or address+token."""
        return addressing.accepts_recipient(self.channel, recipient)

    def reply_token(self, conversation_id: int) -> str:
        return addressing.reply_token(self.channel, conversation_id)

    def conversation_for_reply_token(self, token: str) -> int | None:
        return addressing.conversation_for_reply_token(self.channel, token)

    def reply_address(self, conversation_id: int) -> str:
        return addressing.reply_address(self.channel, conversation_id)

    def message_id_for(self, message_id: int) -> str:
        """Our Message-ID for an outgoing message, the same on every try, so a retry
        after a lost answer reads as the same mail to the customer's client."""
        return addressing.message_id_for(self.channel, message_id)

    def is_own_message_id(self, candidate: str) -> bool:
        return addressing.is_own_message_id(self.channel, candidate)

    # Outbound

    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        return outbound_mail.message_send(self.channel, outbound)

    def send_survey(self, survey: OutboundSurvey) -> DeliveryResult:
        return outbound_mail.survey_send(self.channel, survey)
