"""Mail out: replies and surveys through Django's mail backend, the channel's own SMTP
server if it has one, the global EMAIL_* settings (or an anymail backend) otherwise."""

import html
import logging
import re
import smtplib
from email.errors import MessageError
from email.utils import formataddr, make_msgid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.translation import gettext

from channels_app.adapters.email.addressing import (
    MAX_REFERENCES,
    channel_address,
    message_id_for,
    own_message_marker,
    reply_address,
)
from channels_app.adapters.email.smtp_answers import MailAnswerLost
from channels_app.adapters.survey_forms import names_every_value, question_as_shown
from channels_app.contracts import DeliveryFailed, DeliveryResult, OutboundMessage, OutboundSurvey
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.mail.parsing import OWN_MESSAGE_HEADER

if TYPE_CHECKING:
    from channels_app.models import Channel

logger = logging.getLogger(__name__)


def message_send(channel: "Channel", outbound: OutboundMessage) -> DeliveryResult:
    message_id = (
        message_id_for(channel, outbound.message_id)
        if outbound.message_id
        else make_msgid(domain=channel_address(channel).partition("@")[2]).strip("<>")
    )
    mail = EmailMultiAlternatives(
        subject=_reply_subject(outbound.subject),
        body=outbound.text,
        from_email=_from_header(channel, outbound.author_name),
        to=[outbound.recipient_address],
        reply_to=[reply_address(channel, outbound.conversation_id)],
        headers=_thread_headers(message_id, outbound.thread_references),
        connection=_connection(channel),
    )
    mail.attach_alternative(outbound.html or _text_to_html(outbound.text), "text/html")
    for attachment in outbound.attachments:
        mail.attach(
            attachment.filename,
            _attachment_bytes(attachment.storage_name),
            attachment.content_type,
        )
    _deliver(mail)
    return DeliveryResult(external_id=message_id)


def survey_send(channel: "Channel", survey: OutboundSurvey) -> DeliveryResult:
    """The question with a link per value of the scale, in one row; a link opens the survey
    page with that value chosen (opening it records nothing: mail scanners follow links)."""
    question = question_as_shown(survey)
    links = [
        (rating, label, f"{survey.url}?rating={rating}")
        for rating, label in sorted(survey.rating_labels.items())
    ]
    if names_every_value(survey):
        text_lines = [f"{label}: {url}" for _, label, url in links]
        titles = [f"{rating} · {label}" for rating, label, _ in links]
    else:
        text_lines = [f"{rating}: {url}" for rating, _, url in links]
        titles = [str(rating) for rating, _, _ in links]
    text = "\n".join([question, "", *text_lines])
    buttons = "".join(
        f'<a href="{html.escape(url)}" style="display:inline-block;margin:4px;padding:8px 12px;'
        f'border:1px solid #d1d5db;border-radius:6px;text-decoration:none;color:#111827">'
        f"{html.escape(title)}</a>"
        for title, (_, _, url) in zip(titles, links, strict=True)
    )
    question_html = "<br>".join(html.escape(line) for line in question.splitlines())
    body_html = f"<p>{question_html}</p><p>{buttons}</p>"
    domain = channel_address(channel).partition("@")[2]
    mail = EmailMultiAlternatives(
        subject=channel.csat.get("email_subject") or gettext("How did we do?"),
        body=text,
        from_email=_from_header(channel, ""),
        to=[survey.recipient_address],
        reply_to=[reply_address(channel, survey.conversation_id)],
        headers={
            "Message-ID": f"<{make_msgid(domain=domain).strip('<>')}>",
            OWN_MESSAGE_HEADER: own_message_marker(f"survey-{survey.survey_id}"),
            "Auto-Submitted": "auto-generated",
        },
        connection=_connection(channel),
    )
    mail.attach_alternative(body_html, "text/html")
    _deliver(mail)
    return DeliveryResult(external_id=mail.extra_headers["Message-ID"].strip("<>"))


def _from_header(channel: "Channel", author_name: str) -> str:
    company = str(channel.config.get("company_name") or channel.name)
    display = f"{author_name} via {company}" if author_name else company
    return formataddr((display, channel_address(channel)))


def _thread_headers(message_id: str, references: tuple[str, ...]) -> dict[str, str]:
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


def _connection(channel: "Channel") -> Any:
    config = channel.config
    if not config.get("smtp_host"):
        return get_connection(fail_silently=False)
    return get_connection(
        backend="channels_app.adapters.email.smtp_answers.EmailBackend",
        host=config["smtp_host"],
        port=int(config.get("smtp_port") or 587),
        username=config.get("smtp_username") or "",
        password=channel.secrets.get("smtp_password", ""),
        use_tls=bool(config.get("smtp_use_tls", False)),
        use_ssl=bool(config.get("smtp_use_ssl", False)),
        timeout=settings.EMAIL_TIMEOUT,
        fail_silently=False,
    )


def _attachment_bytes(storage_name: str) -> bytes:
    if not storage_name:
        raise DeliveryFailed("an attachment has no stored file", is_retryable=False)
    try:
        with default_storage.open(storage_name, "rb") as stored:
            return stored.read()
    except OSError as error:
        raise DeliveryFailed(f"attachment unreadable: {error}", is_retryable=True) from error


def _deliver(mail: EmailMultiAlternatives) -> None:
    try:
        sent = mail.send(fail_silently=False)
    except MailAnswerLost as error:
        raise DeliveryFailed(
            _server_unreachable(error), is_retryable=True, may_have_arrived=True
        ) from error
    except smtplib.SMTPRecipientsRefused as error:
        code, reason = next(iter(error.recipients.values()), (550, b"recipient refused"))
        raise _smtp_failure(code, reason) from error
    except smtplib.SMTPResponseException as error:
        raise _smtp_failure(error.smtp_code, error.smtp_error) from error
    except (TimeoutError, smtplib.SMTPException, OSError) as error:
        raise DeliveryFailed(_server_unreachable(error), is_retryable=True) from error
    except (ValueError, MessageError) as error:
        # Django refuses headers with line breaks (BadHeaderError): no retry mends it.
        logger.warning("mail not composable: %s", error)
        raise DeliveryFailed(
            FailureReason.of(FailureCode.MAIL_NOT_COMPOSABLE), is_retryable=False
        ) from error
    if not sent:
        raise DeliveryFailed(FailureReason.of(FailureCode.MAIL_NOT_SENT), is_retryable=True)


def _smtp_failure(code: int, reason: bytes | str) -> DeliveryFailed:
    text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    # 4xx is the server asking us to come back later; 5xx is its final word.
    return DeliveryFailed(
        FailureReason.of(FailureCode.MAIL_REFUSED, status=code, detail=text),
        is_retryable=400 <= code < 500,
    )


def _server_unreachable(error: BaseException) -> FailureReason:
    return FailureReason.of(FailureCode.MAIL_SERVER_UNREACHABLE, detail=str(error))


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
