"""The email channel: raw RFC 5322 messages in (webhook, SMTP server, IMAP), SMTP out.

Threads are kept by Message-ID: a customer's mail joins the conversation whose messages
it names in In-Reply-To/References, or the one named by the per-conversation reply
address it was sent to; a subject alone never joins threads. Auto-replies and our own
mails coming back are dropped; a bounce marks the message it bounces as failed.
"""

import html
import re
import smtplib
from email.errors import MessageError
from email.utils import formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

from channels_app.adapters.base import ChannelAdapter, check_switchboard_signature
from channels_app.contracts import (
    ENVELOPE_SENDER_HEADER,
    DeliveryFailed,
    DeliveryResult,
    DeliveryStatusUpdate,
    IdentityReachability,
    InboundAttachment,
    InboundEvent,
    InboundIdentity,
    InboundMessage,
    OutboundMessage,
    OutboundSurvey,
    PayloadMalformed,
    WebhookRequest,
)
from channels_app.mail.parsing import (
    OWN_MESSAGE_HEADER,
    BounceReport,
    EmailUnreadable,
    ParsedEmail,
    parse_email,
)
from customers.normalization import InvalidIdentityValue, normalize_email

# Carried by every mail we send, so that one coming back (a loop, a forward to the
# support address) is recognised and dropped.
OWN_MESSAGE_SALT = "switchboard.email.own-message"
REPLY_TOKEN_SALT = "switchboard.email.reply-address"
# `MAIL FROM:<>`: the sender wants no answer (bounces, receipts, notifications).
NULL_REVERSE_PATH = "<>"
_OWN_MESSAGE_ID = re.compile(r"^switchboard\.(?P<message>\d{1,18})\.[0-9a-f]{10}@")
_REPLY_TOKEN = re.compile(r"^c(?P<conversation>\d{1,18})-(?P<signature>[0-9a-f]{12})$")
# Most references a reply carries; long threads keep the first and the latest ones.
MAX_REFERENCES = 20


class EmailAdapter(ChannelAdapter):
    """Inbound mail arrives signed on the webhook (`X-Switchboard-Signature`, like the API
    channel), through `manage.py smtp_inbound`, or from an IMAP mailbox polled by beat.
    Replies go through Django's mail backend: the channel's own SMTP server if it has one,
    the global EMAIL_* settings (or an anymail backend) otherwise.
    """

    kind = "email"
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
        if address and not _is_email_address(address):
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
        content_type = request.headers.get("content-type", "message/rfc822")
        if content_type.split(";")[0].strip().lower() not in ("message/rfc822", "text/plain", ""):
            raise PayloadMalformed(
                "the body must be one raw message (Content-Type: message/rfc822)"
            )
        return self.parse_raw(
            request.body, envelope_sender=request.headers.get(ENVELOPE_SENDER_HEADER, "")
        )

    def parse_raw(self, raw: bytes, *, envelope_sender: str = "") -> list[InboundEvent]:
        """Events of one raw message; `envelope_sender` (SMTP MAIL FROM) stands in for a
        From header that names no usable address."""
        try:
            parsed = parse_email(raw)
        except EmailUnreadable as error:
            raise PayloadMalformed(f"not an email message: {error}") from error
        except RecursionError as error:
            # Thousands of nested MIME parts exhaust the standard parser's recursion.
            raise PayloadMalformed("the message nests its parts too deeply") from error
        if is_own_message_marker(parsed.own_message_marker):
            return []
        if parsed.bounce is not None:
            return self._bounce_events(parsed.bounce)
        if parsed.is_auto_reply or envelope_sender.strip() == NULL_REVERSE_PATH:
            return []
        message = self._inbound_message(parsed, envelope_sender)
        # Whoever writes to us can be written to again, whatever an earlier bounce said.
        reachable = IdentityReachability(
            kind="email", value=message.recipient_address, is_reachable=True
        )
        return [message, reachable]

    def _inbound_message(self, parsed: ParsedEmail, envelope_sender: str) -> InboundMessage:
        sender_address, sender_name = parsed.from_address, parsed.from_name
        if parsed.reply_to_address and self._is_relay(parsed.from_address):
            # A form or list relay sends for someone else: they are in Reply-To.
            sender_address = parsed.reply_to_address
            sender_name = parsed.reply_to_name or sender_name
        if not _is_email_address(sender_address):
            sender_address = envelope_sender.strip().lower()
        if not _is_email_address(sender_address):
            raise PayloadMalformed("the message names no sender address we can answer")
        return InboundMessage(
            external_id=parsed.message_id[:255],
            recipient_address=sender_address,
            identities=(InboundIdentity(kind="email", value=sender_address),),
            sender_name=sender_name,
            text=parsed.text,
            full_text=parsed.full_text if parsed.full_text != parsed.text else "",
            html=parsed.html,
            subject=parsed.subject,
            sent_at=parsed.sent_at,
            attachments=tuple(
                InboundAttachment(
                    filename=item.filename,
                    content_type=item.content_type,
                    size=len(item.content),
                    content=item.content,
                    content_id=item.content_id,
                )
                for item in parsed.attachments
            ),
            thread_references=_thread_references(parsed),
            reply_conversation_id=self._conversation_from_recipients(parsed.recipients),
            threads_by_reference=True,
        )

    def _is_relay(self, address: str) -> bool:
        for relay in self.channel.config.get("relay_senders") or ():
            relay = relay.strip().lower()
            if relay and (address == relay or (relay.startswith("@") and address.endswith(relay))):
                return True
        return False

    def _conversation_from_recipients(self, recipients: tuple[str, ...]) -> int | None:
        local, _, domain = self.address.partition("@")
        for recipient in recipients:
            recipient_local, _, recipient_domain = recipient.partition("@")
            base, plus, token = recipient_local.partition("+")
            if plus and base == local and recipient_domain == domain:
                conversation_id = self.conversation_for_reply_token(token)
                if conversation_id is not None:
                    return conversation_id
        return None

    # Addresses

    @property
    def address(self) -> str:
        return str(self.channel.config.get("address", "")).strip().lower()

    def accepts_recipient(self, recipient: str) -> bool:
        """Whether mail to this address is for the channel: its address or address+token."""
        local, _, domain = recipient.strip().lower().partition("@")
        own_local, _, own_domain = self.address.partition("@")
        return domain == own_domain and local.partition("+")[0] == own_local

    def reply_token(self, conversation_id: int) -> str:
        signature = salted_hmac(
            REPLY_TOKEN_SALT, f"{self.channel.pk}:{conversation_id}", algorithm="sha256"
        ).hexdigest()[:12]
        return f"c{conversation_id}-{signature}"

    def conversation_for_reply_token(self, token: str) -> int | None:
        match = _REPLY_TOKEN.match(token)
        if match is None:
            return None
        conversation_id = int(match["conversation"])
        if not constant_time_compare(self.reply_token(conversation_id), token):
            return None
        return conversation_id

    def reply_address(self, conversation_id: int) -> str:
        local, _, domain = self.address.partition("@")
        return f"{local}+{self.reply_token(conversation_id)}@{domain}"

    def message_id_for(self, message_id: int) -> str:
        """Our Message-ID for an outgoing message, the same on every try, so a retry
        after a lost answer reads as the same mail to the customer's client."""
        signature = salted_hmac(
            REPLY_TOKEN_SALT, f"message:{self.channel.pk}:{message_id}", algorithm="sha256"
        ).hexdigest()[:10]
        return f"switchboard.{message_id}.{signature}@{self.address.partition('@')[2]}"

    def is_own_message_id(self, candidate: str) -> bool:
        match = _OWN_MESSAGE_ID.match(candidate)
        return match is not None and constant_time_compare(
            self.message_id_for(int(match["message"])), candidate
        )

    def _bounce_events(self, bounce: BounceReport) -> list[InboundEvent]:
        events: list[InboundEvent] = []
        if bounce.original_message_id:
            events.append(
                DeliveryStatusUpdate(
                    external_id=bounce.original_message_id,
                    status="failed",
                    error=(bounce.diagnostic or "the mail bounced")[:1000],
                )
            )
        # Only a report on a mail we really sent (its Message-ID carries our signature)
        # may declare an address dead, and only that mail's recipient: anyone can mail us
        # something that looks like a report.
        if (
            bounce.is_address_dead
            and self.is_own_message_id(bounce.original_message_id)
            and _is_email_address(bounce.recipient)
        ):
            events.append(
                IdentityReachability(
                    kind="email",
                    value=bounce.recipient,
                    is_reachable=False,
                    reported_for=bounce.original_message_id,
                )
            )
        return events

    # Outbound

    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        message_id = (
            self.message_id_for(outbound.message_id)
            if outbound.message_id
            else make_msgid(domain=self.address.partition("@")[2]).strip("<>")
        )
        mail = EmailMultiAlternatives(
            subject=_reply_subject(outbound.subject),
            body=outbound.text,
            from_email=self._from_header(outbound.author_name),
            to=[outbound.recipient_address],
            reply_to=[self.reply_address(outbound.conversation_id)],
            headers=self._thread_headers(message_id, outbound.thread_references),
            connection=self._connection(),
        )
        mail.attach_alternative(outbound.html or _text_to_html(outbound.text), "text/html")
        for attachment in outbound.attachments:
            mail.attach(
                attachment.filename,
                self._attachment_bytes(attachment.storage_name),
                attachment.content_type,
            )
        self._deliver(mail)
        return DeliveryResult(external_id=message_id)

    def send_survey(self, survey: OutboundSurvey) -> DeliveryResult:
        links = [
            (rating, label, f"{survey.url}?rating={rating}")
            for rating, label in sorted(survey.rating_labels.items())
        ]
        text = "\n".join([survey.question, "", *(f"{label}: {url}" for _, label, url in links)])
        buttons = "".join(
            f'<a href="{html.escape(url)}" style="display:inline-block;margin:4px;padding:8px 12px;'
            f'border:1px solid #d1d5db;border-radius:6px;text-decoration:none;color:#111827">'
            f"{rating} · {html.escape(label)}</a>"
            for rating, label, url in links
        )
        body_html = f"<p>{html.escape(survey.question)}</p><p>{buttons}</p>"
        mail = EmailMultiAlternatives(
            subject=self.channel.csat.get("email_subject") or gettext("How did we do?"),
            body=text,
            from_email=self._from_header(""),
            to=[survey.recipient_address],
            reply_to=[self.reply_address(survey.conversation_id)],
            headers={
                "Message-ID": f"<{make_msgid(domain=self.address.partition('@')[2]).strip('<>')}>",
                OWN_MESSAGE_HEADER: own_message_marker(f"survey-{survey.survey_id}"),
                "Auto-Submitted": "auto-generated",
            },
            connection=self._connection(),
        )
        mail.attach_alternative(body_html, "text/html")
        self._deliver(mail)
        return DeliveryResult(external_id=mail.extra_headers["Message-ID"].strip("<>"))

    def _from_header(self, author_name: str) -> str:
        company = str(self.channel.config.get("company_name") or self.channel.name)
        display = f"{author_name} via {company}" if author_name else company
        return formataddr((display, self.address))

    def _thread_headers(self, message_id: str, references: tuple[str, ...]) -> dict[str, str]:
        headers = {
            "Message-ID": f"<{message_id}>",
            OWN_MESSAGE_HEADER: own_message_marker(message_id),
        }
        earlier = [reference for reference in references if reference != message_id]
        if len(earlier) > MAX_REFERENCES:
            earlier = [earlier[0], *earlier[-(MAX_REFERENCES - 1) :]]
        if earlier:
            headers["In-Reply-To"] = f"<{earlier[-1]}>"
            headers["References"] = " ".join(f"<{reference}>" for reference in earlier)
        return headers

    def _connection(self) -> Any:
        config = self.channel.config
        if not config.get("smtp_host"):
            return get_connection(fail_silently=False)
        return get_connection(
            backend="django.core.mail.backends.smtp.EmailBackend",
            host=config["smtp_host"],
            port=int(config.get("smtp_port") or 587),
            username=config.get("smtp_username") or "",
            password=self.channel.secrets.get("smtp_password", ""),
            use_tls=bool(config.get("smtp_use_tls", False)),
            use_ssl=bool(config.get("smtp_use_ssl", False)),
            timeout=settings.EMAIL_TIMEOUT,
            fail_silently=False,
        )

    def _attachment_bytes(self, storage_name: str) -> bytes:
        if not storage_name:
            raise DeliveryFailed("an attachment has no stored file", is_retryable=False)
        try:
            with default_storage.open(storage_name, "rb") as stored:
                return stored.read()
        except OSError as error:
            raise DeliveryFailed(f"attachment unreadable: {error}", is_retryable=True) from error

    def _deliver(self, mail: EmailMultiAlternatives) -> None:
        try:
            sent = mail.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as error:
            code, reason = next(iter(error.recipients.values()), (550, b"recipient refused"))
            raise _smtp_failure(code, reason) from error
        except smtplib.SMTPResponseException as error:
            raise _smtp_failure(error.smtp_code, error.smtp_error) from error
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"mail server unreachable: {error}", is_retryable=True) from error
        except (ValueError, MessageError) as error:
            # Django refuses headers with line breaks (BadHeaderError): no retry mends it.
            raise DeliveryFailed(f"mail not sendable: {error}", is_retryable=False) from error
        if not sent:
            raise DeliveryFailed("the mail backend sent nothing", is_retryable=True)


def own_message_marker(identifier: str) -> str:
    """The X-Switchboard-Message-Id value of a mail we send: signed, so mail that merely
    carries the header (another installation's, a forged one) is not taken for ours."""
    signature = salted_hmac(OWN_MESSAGE_SALT, identifier, algorithm="sha256").hexdigest()[:16]
    return f"{identifier}.{signature}"


def is_own_message_marker(marker: str) -> bool:
    identifier, dot, _ = marker.rpartition(".")
    return bool(dot and identifier) and constant_time_compare(
        own_message_marker(identifier), marker
    )


def _is_email_address(value: str) -> bool:
    try:
        normalize_email(value)
    except InvalidIdentityValue:
        return False
    return True


def _smtp_failure(code: int, reason: bytes | str) -> DeliveryFailed:
    text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    # 4xx is the server asking us to come back later; 5xx is its final word.
    return DeliveryFailed(f"SMTP {code}: {text}", is_retryable=400 <= code < 500)


def _thread_references(parsed: ParsedEmail) -> tuple[str, ...]:
    nearest_first = [*parsed.in_reply_to, *reversed(parsed.references)]
    seen: dict[str, None] = {}
    for reference in nearest_first:
        if reference != parsed.message_id:
            seen.setdefault(reference[:255], None)
    return tuple(seen)[: MAX_REFERENCES * 2]


def _reply_subject(subject: str) -> str:
    subject = (subject or "").strip()
    if not subject:
        return "Re: your message"
    return (
        subject if re.match(r"^(re|aw|sv|antw)\s*:", subject, re.IGNORECASE) else f"Re: {subject}"
    )


def _text_to_html(text: str) -> str:
    paragraphs = (html.escape(block).replace("\n", "<br>") for block in text.split("\n\n"))
    return "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
