"""Email test helpers: customer mails, bounces and notices as mail servers write them, and
posting a mail to the signed webhook."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

from channels_app.services import message_deliver
from inbox.models import Message
from inbox.services import message_reply
from tests.helpers import sign

SUPPORT = "support@acme.test"


def customer_mail(
    *,
    text: str = "Hello, my parcel never arrived.",
    sender: str = "Maria Garcia <maria@example.com>",
    subject: str = "Where is my order?",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    to: str = SUPPORT,
    headers: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(timezone.now())
    message_id = message_id or make_msgid(domain="mail.example.com")
    mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(text)
    return mail.as_bytes(), message_id.strip("<>")


def post_mail(client, channel, raw: bytes, *, signature: str | None = None):
    return client.post(
        f"/webhooks/email/{channel.public_id}/",
        data=raw,
        content_type="message/rfc822",
        HTTP_X_SWITCHBOARD_SIGNATURE=signature if signature is not None else sign(raw),
    )


def delivery_status_report(
    recipient: str, *, status: str, diagnostic: str, original_message_id: str
) -> bytes:
    """A bounce as Postfix writes it: multipart/report with the returned mail's headers."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        f"To: {SUPPORT}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.com>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n"
        "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {SUPPORT}\r\nTo: {recipient}\r\nMessage-ID: <{original_message_id}>\r\n"
        "--b1--\r\n"
    ).encode()


def mailer_daemon_notice(subject: str, text: str, *, original: Message) -> bytes:
    """A plain-text notice about one of our mails, as qmail or old Postfix write them."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        f"To: {SUPPORT}\r\nSubject: {subject}\r\n\r\n{text}\r\n\r\n"
        f"Message-ID: <{original.external_id}>\r\n"
    ).encode()


def deliver_reply(conversation, operator, body: str) -> Message:
    reply = message_reply(conversation=conversation, author=operator, body=body)
    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is None
    reply.refresh_from_db()
    return reply
