"""The email channel end to end inside one process: the signed webhook, threading both
ways, replies through a real SMTP server (an aiosmtpd sink), bounces and auto-replies."""

from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from channels_app.adapters.email import EmailAdapter
from channels_app.models import MailboxState, WebhookEvent
from channels_app.services import mail_receive, message_deliver
from customers.models import Identity
from inbox.models import Attachment, Conversation, ConversationStatus, Message, MessageStatus
from inbox.representations import message_representation
from inbox.services import conversation_resolve, message_reply
from tests.factories import ChannelFactory, CustomerFactory, IdentityFactory
from tests.helpers import sign

pytestmark = pytest.mark.django_db

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


@pytest.fixture
def email_channel(team, smtp_sink):
    return ChannelFactory(
        kind="email",
        name="Acme Support",
        config={
            "address": SUPPORT,
            "company_name": "Acme",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
        },
        teams=[team],
    )


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


def test_a_signed_mail_opens_a_conversation_for_the_sender(client, email_channel):
    raw, message_id = customer_mail()

    response = post_mail(client, email_channel, raw)

    assert response.status_code == 200, response.content
    message = Message.objects.get()
    assert message.external_id == message_id
    assert message.body.strip() == "Hello, my parcel never arrived."
    conversation = message.conversation
    assert conversation.subject == "Where is my order?"
    assert conversation.recipient_address == "maria@example.com"
    assert conversation.customer.name == "Maria Garcia"
    assert Identity.objects.filter(
        customer=conversation.customer, kind="email", value="maria@example.com"
    ).exists()


def test_a_known_sender_becomes_the_same_customer(client, email_channel):
    customer = CustomerFactory(name="Maria G.")
    IdentityFactory(customer=customer, kind="email", value="maria@example.com")

    post_mail(client, email_channel, customer_mail(sender="MARIA@Example.com")[0])

    assert Conversation.objects.get().customer == customer


def test_a_bad_signature_is_refused_and_nothing_stored(client, email_channel):
    raw, _ = customer_mail()

    response = post_mail(client, email_channel, raw, signature="sha256=" + "0" * 64)

    assert response.status_code == 401
    assert response.json()["error"]
    assert not WebhookEvent.objects.exists() and not Message.objects.exists()


def test_a_duplicate_delivery_changes_nothing(client, email_channel):
    raw, _ = customer_mail()
    post_mail(client, email_channel, raw)

    response = post_mail(client, email_channel, raw)

    assert response.status_code == 200
    assert Message.objects.count() == 1 and Conversation.objects.count() == 1


def test_a_body_that_is_no_mail_gets_a_json_400(client, email_channel):
    response = post_mail(client, email_channel, b"")

    assert response.status_code == 400
    assert response.json()["error"]
    assert not Message.objects.exists()


def test_a_reply_carries_threading_headers_and_the_reply_address(
    email_channel, operator, smtp_sink
):
    raw, customer_message_id = customer_mail()
    mail_receive(channel=email_channel, raw=raw)
    conversation = Conversation.objects.get()

    reply = deliver_reply(conversation, operator, "It left our warehouse today.")

    assert reply.status == MessageStatus.SENT
    captured = smtp_sink.mails[0]
    assert captured.recipients == ["maria@example.com"]
    sent = captured.message
    assert sent["From"].addresses[0].display_name == "Anna via Acme"
    assert sent["From"].addresses[0].addr_spec == SUPPORT
    assert sent["Subject"] == "Re: Where is my order?"
    assert sent["Message-ID"].strip("<>") == reply.external_id
    assert sent["In-Reply-To"] == f"<{customer_message_id}>"
    assert sent["References"] == f"<{customer_message_id}>"
    reply_to = sent["Reply-To"].addresses[0].addr_spec
    assert reply_to == EmailAdapter(email_channel).reply_address(conversation.pk)
    assert reply_to.startswith("support+") and reply_to.endswith("@acme.test")
    assert sent.get_body(("plain",)).get_content().strip() == "It left our warehouse today."
    assert "It left our warehouse today." in sent.get_body(("html",)).get_content()


def test_the_customers_answer_keeping_only_in_reply_to_joins_the_thread(email_channel, operator):
    raw, _ = customer_mail()
    mail_receive(channel=email_channel, raw=raw)
    conversation = Conversation.objects.get()
    reply = deliver_reply(conversation, operator, "It left our warehouse today.")

    answer, _ = customer_mail(
        text="Thanks, got it!",
        subject="Something else entirely",
        in_reply_to=f"<{reply.external_id}>",
    )
    mail_receive(channel=email_channel, raw=answer)

    assert Conversation.objects.count() == 1
    assert list(conversation.messages.order_by("id").values_list("direction", flat=True)) == [
        "in",
        "out",
        "in",
    ]


def test_the_reply_address_alone_threads_a_mail_without_headers(email_channel):
    raw, _ = customer_mail()
    mail_receive(channel=email_channel, raw=raw)
    conversation = Conversation.objects.get()
    reply_address = EmailAdapter(email_channel).reply_address(conversation.pk)

    mail_receive(
        channel=email_channel, raw=customer_mail(text="One more thing", to=reply_address)[0]
    )

    assert Conversation.objects.count() == 1
    assert conversation.messages.count() == 2


def test_a_forged_reply_token_does_not_thread(email_channel):
    raw, _ = customer_mail()
    mail_receive(channel=email_channel, raw=raw)
    conversation = Conversation.objects.get()

    forged = f"support+c{conversation.pk}-000000000000@acme.test"
    mail_receive(channel=email_channel, raw=customer_mail(text="Let me in", to=forged)[0])

    assert Conversation.objects.count() == 2


def test_the_same_subject_alone_never_merges_threads(email_channel):
    mail_receive(channel=email_channel, raw=customer_mail(subject="Invoice")[0])

    mail_receive(channel=email_channel, raw=customer_mail(subject="Re: Invoice")[0])

    assert Conversation.objects.count() == 2


def test_a_reply_to_a_resolved_conversation_reopens_it(email_channel, operator):
    raw, message_id = customer_mail()
    mail_receive(channel=email_channel, raw=raw)
    conversation = Conversation.objects.get()
    conversation_resolve(conversation=conversation, resolved_by=operator)

    mail_receive(
        channel=email_channel,
        raw=customer_mail(text="Still not here", in_reply_to=f"<{message_id}>")[0],
    )

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    assert Conversation.objects.count() == 1


def test_a_reply_after_the_reopen_window_starts_a_new_conversation(email_channel, operator):
    raw, message_id = customer_mail()
    mail_receive(channel=email_channel, raw=raw)
    conversation = Conversation.objects.get()
    conversation_resolve(conversation=conversation, resolved_by=operator)
    Conversation.objects.filter(pk=conversation.pk).update(
        resolved_at=timezone.now() - timedelta(days=30)
    )

    mail_receive(
        channel=email_channel,
        raw=customer_mail(text="Months later", in_reply_to=f"<{message_id}>")[0],
    )

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.RESOLVED
    assert Conversation.objects.count() == 2


def test_an_out_of_office_reply_opens_nothing_and_sends_nothing(email_channel, operator, smtp_sink):
    raw, _ = customer_mail()
    mail_receive(channel=email_channel, raw=raw)
    conversation = Conversation.objects.get()
    reply = deliver_reply(conversation, operator, "Could you send your order number?")
    sent_before = len(smtp_sink.mails)

    auto_reply, _ = customer_mail(
        text="I am out of the office until Monday.",
        subject="Out of Office: Where is my order?",
        in_reply_to=f"<{reply.external_id}>",
        headers={"Auto-Submitted": "auto-replied"},
    )
    mail_receive(channel=email_channel, raw=auto_reply)
    mail_receive(
        channel=email_channel,
        raw=customer_mail(text="Away", subject="Automatic reply: hello", sender="bob@example.com")[
            0
        ],
    )

    assert Conversation.objects.count() == 1
    assert conversation.messages.count() == 2
    assert len(smtp_sink.mails) == sent_before


def test_a_bounce_marks_the_reply_failed_and_opens_nothing(email_channel, operator):
    raw, _ = customer_mail()
    mail_receive(channel=email_channel, raw=raw)
    conversation = Conversation.objects.get()
    reply = deliver_reply(conversation, operator, "Here is your tracking number.")

    bounce = delivery_status_report(
        "maria@example.com",
        status="5.1.1",
        diagnostic="550 5.1.1 <maria@example.com>: User unknown",
        original_message_id=reply.external_id,
    )
    mail_receive(channel=email_channel, raw=bounce)

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert "User unknown" in reply.error
    assert Conversation.objects.count() == 1 and conversation.messages.count() == 2
    # No mailbox behind the address: no survey or offline copy goes there any more...
    assert not Identity.objects.get(kind="email", value="maria@example.com").is_reachable

    # ...until she writes from it again.
    mail_receive(channel=email_channel, raw=customer_mail(text="New address works now")[0])
    assert Identity.objects.get(kind="email", value="maria@example.com").is_reachable


def test_a_bounce_for_a_mail_we_never_sent_declares_nobody_dead(email_channel):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    forged = delivery_status_report(
        "maria@example.com",
        status="5.1.1",
        diagnostic="550 5.1.1 User unknown",
        original_message_id="switchboard.1.0000000000@acme.test",
    )
    mail_receive(channel=email_channel, raw=forged)

    assert Identity.objects.get(kind="email", value="maria@example.com").is_reachable


def test_a_bounce_declares_dead_only_the_address_the_mail_went_to(email_channel, operator):
    mail_receive(channel=email_channel, raw=customer_mail(sender="bob@example.com")[0])
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    marias = Conversation.objects.get(customer__email="maria@example.com")
    reply = deliver_reply(marias, operator, "Here is your tracking number.")

    # Maria got a real Message-ID of ours and names Bob in a report of her own making.
    forged = delivery_status_report(
        "bob@example.com",
        status="5.1.1",
        diagnostic="550 5.1.1 <bob@example.com>: User unknown",
        original_message_id=reply.external_id,
    )
    mail_receive(channel=email_channel, raw=forged)

    assert Identity.objects.get(kind="email", value="bob@example.com").is_reachable
    assert Identity.objects.get(kind="email", value="maria@example.com").is_reachable


def test_a_full_mailbox_bounce_fails_the_reply_but_keeps_the_address(email_channel, operator):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    reply = deliver_reply(Conversation.objects.get(), operator, "Here is your invoice.")
    bounce = mailer_daemon_notice(
        "Undelivered Mail Returned to Sender",
        "This is the mail system. Your message could not be delivered.\r\n"
        "<maria@example.com>: 552 5.2.2 Mailbox full",
        original=reply,
    )

    mail_receive(channel=email_channel, raw=bounce)

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED and "Mailbox full" in reply.error
    assert Identity.objects.get(kind="email", value="maria@example.com").is_reachable


def test_a_delay_notice_from_the_mailer_daemon_opens_nothing(email_channel, operator):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    reply = deliver_reply(Conversation.objects.get(), operator, "Here is your invoice.")
    delay = mailer_daemon_notice(
        "Delayed Mail (still being retried)",
        "This is the mail system. Your message was not yet delivered; the mail system will\r\n"
        "continue to try. You do not need to resend your message.",
        original=reply,
    )

    mail_receive(channel=email_channel, raw=delay)

    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT
    assert Conversation.objects.count() == 1 and Message.objects.count() == 2


def test_mail_with_a_null_return_path_opens_nothing(email_channel):
    raw, _ = customer_mail(text="Your message was read.", headers={"Return-Path": "<>"})

    mail_receive(channel=email_channel, raw=raw)
    mail_receive(channel=email_channel, raw=customer_mail()[0], envelope_sender="<>")

    assert not Conversation.objects.exists()
    assert WebhookEvent.objects.filter(status="ignored").count() == 2


def test_our_own_mail_coming_back_is_dropped(email_channel, operator, smtp_sink):
    raw, _ = customer_mail()
    mail_receive(channel=email_channel, raw=raw)
    deliver_reply(Conversation.objects.get(), operator, "Hello from us")

    mail_receive(channel=email_channel, raw=smtp_sink.mails[0].raw)

    assert Message.objects.count() == 2 and Conversation.objects.count() == 1


def test_mail_merely_carrying_our_marker_header_is_not_taken_for_ours(email_channel):
    # Another installation's mail, or a forged header: the marker's signature is not ours.
    raw, _ = customer_mail(headers={"X-Switchboard-Message-Id": "switchboard.7.abcdef@x.test"})

    mail_receive(channel=email_channel, raw=raw)

    assert Message.objects.get().body.strip() == "Hello, my parcel never arrived."


def test_a_strangers_mail_naming_a_customers_message_id_does_not_join_it(email_channel, operator):
    raw, maria_message_id = customer_mail()
    mail_receive(channel=email_channel, raw=raw)
    marias = Conversation.objects.get()
    conversation_resolve(conversation=marias, resolved_by=operator)

    stranger, _ = customer_mail(
        sender="Mallory <mallory@evil.example>",
        text="Reopen this please",
        in_reply_to=f"<{maria_message_id}>",
    )
    mail_receive(channel=email_channel, raw=stranger)

    marias.refresh_from_db()
    assert marias.status == ConversationStatus.RESOLVED
    assert marias.messages.count() == 1
    assert Conversation.objects.exclude(pk=marias.pk).get().customer.name == "Mallory"


def test_a_customer_naming_their_own_earlier_mail_stays_in_the_thread(email_channel):
    raw, first_id = customer_mail()
    mail_receive(channel=email_channel, raw=raw)

    follow_up, _ = customer_mail(text="Any news?", references=f"<{first_id}>")
    mail_receive(channel=email_channel, raw=follow_up)

    assert Conversation.objects.count() == 1 and Message.objects.count() == 2


def test_a_colleague_answering_our_reply_joins_the_thread(email_channel, operator):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    conversation = Conversation.objects.get()
    reply = deliver_reply(conversation, operator, "It left our warehouse today.")

    colleague, _ = customer_mail(
        sender="Jon <jon@example.com>",
        text="I'm Maria's colleague",
        in_reply_to=f"<{reply.external_id}>",
    )
    mail_receive(channel=email_channel, raw=colleague)

    assert Conversation.objects.count() == 1 and conversation.messages.count() == 3


def test_a_refused_recipient_fails_at_once_with_the_smtp_error(email_channel, operator, smtp_sink):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    smtp_sink.refuse_with = "550 5.1.1 Mailbox does not exist"
    reply = message_reply(conversation=Conversation.objects.get(), author=operator, body="Hi")

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert "SMTP 550" in reply.error and "Mailbox does not exist" in reply.error


def test_a_temporary_smtp_error_is_retried_then_shown_failed(email_channel, operator, smtp_sink):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    smtp_sink.refuse_with = "451 4.3.0 Try again later"
    reply = message_reply(conversation=Conversation.objects.get(), author=operator, body="Hi")

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=2) is not None
    reply.refresh_from_db()
    assert reply.status == MessageStatus.QUEUED and "retrying" in reply.error

    assert message_deliver(message_id=reply.pk, attempt=2, max_attempts=2) is None
    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED and "SMTP 451" in reply.error


def test_an_unreachable_mail_server_is_retried(email_channel, operator, smtp_sink):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    smtp_sink.stop()
    reply = message_reply(conversation=Conversation.objects.get(), author=operator, body="Hi")

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is not None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.QUEUED


def test_inline_images_and_attachments_are_stored(email_channel):
    mail = EmailMessage()
    mail["From"] = "maria@example.com"
    mail["To"] = SUPPORT
    mail["Subject"] = "Broken item"
    mail["Message-ID"] = make_msgid()
    mail.set_content("See the photo.")
    mail.add_alternative('<p>See the photo.</p><img src="cid:photo1">', subtype="html")
    mail.get_payload()[1].add_related(b"\x89PNG fake", "image", "png", cid="<photo1>")
    mail.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="invoice.pdf")

    mail_receive(channel=email_channel, raw=mail.as_bytes())

    message = Message.objects.get()
    attachments = {item.filename: item for item in message.attachments.all()}
    assert attachments["invoice.pdf"].file.read() == b"%PDF-1.4"
    inline = next(item for item in attachments.values() if item.content_id == "photo1")
    assert inline.content_type == "image/png"
    assert "cid:photo1" in message.body_html
    shown = message_representation(message)["body_html"]
    assert "cid:photo1" not in shown and inline.url in shown


def test_a_survey_goes_out_as_links_to_the_survey_page(email_channel, smtp_sink):
    from channels_app.contracts import OutboundSurvey

    EmailAdapter(email_channel).send_survey(
        OutboundSurvey(
            survey_id=7,
            conversation_id=1,
            recipient_address="maria@example.com",
            question="How did we do?",
            url="http://testserver/survey/tok/",
            rating_labels={1: "Bad", 5: "Great"},
            button_payloads={},
        )
    )

    sent = smtp_sink.mails[0].message
    assert sent["Auto-Submitted"] == "auto-generated"
    html = sent.get_body(("html",)).get_content()
    assert "http://testserver/survey/tok/?rating=5" in html
    assert "?rating=1" in sent.get_body(("plain",)).get_content()


def test_an_admin_creates_an_email_channel_with_write_only_passwords(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "email",
            "name": "Support mail",
            "config": {
                "address": "Support@Example.com",
                "secret": "hook-secret",
                "smtp_host": "smtp.example.com",
                "smtp_port": 587,
                "smtp_password": "smtp-pass",
                "imap_host": "imap.example.com",
                "imap_password": "imap-pass",
            },
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["webhook_url"].endswith(f"/webhooks/email/{data['public_id']}/")
    assert data["config"]["smtp_host"] == "smtp.example.com"
    assert not {"secret", "smtp_password", "imap_password"} & set(data["config"])
    assert "smtp-pass" not in response.content.decode()


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "address"),
        ({"address": "not-an-address"}, "address"),
        ({"address": "support+x@example.com"}, "address"),
        ({"address": "s@example.com", "smtp_port": "25"}, "smtp_port"),
        ({"address": "s@example.com", "relay_senders": "forms@example.com"}, "relay_senders"),
    ],
)
def test_a_bad_email_channel_config_is_a_json_400(admin_client_api, config, field):
    response = admin_client_api.post(
        "/api/v1/channels/", {"kind": "email", "name": "Mail", "config": config}, format="json"
    )

    assert response.status_code == 400
    assert field in response.content.decode()


def test_a_relay_senders_customer_is_the_reply_to_address(email_channel):
    email_channel.config = {**email_channel.config, "relay_senders": ["@forms.example.com"]}
    email_channel.save()

    raw, _ = customer_mail(
        sender="Website form <noreply@forms.example.com>",
        headers={"Reply-To": "Petra Novak <petra@example.cz>"},
    )
    mail_receive(channel=email_channel, raw=raw)

    conversation = Conversation.objects.get()
    assert conversation.recipient_address == "petra@example.cz"
    assert conversation.customer.name == "Petra Novak"


def test_a_reply_with_a_file_carries_it_as_an_attachment(email_channel, operator, smtp_sink):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    reply = message_reply(conversation=Conversation.objects.get(), author=operator, body="Invoice")
    Attachment.objects.create(
        message=reply,
        file=ContentFile(b"%PDF-1.7 invoice", name="invoice-42.pdf"),
        filename="invoice-42.pdf",
        content_type="application/pdf",
        size=16,
    )

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is None

    sent = smtp_sink.mails[0].message
    attachments = list(sent.iter_attachments())
    assert [part.get_filename() for part in attachments] == ["invoice-42.pdf"]
    assert attachments[0].get_content() == b"%PDF-1.7 invoice"
    assert sent.get_body(("plain",)).get_content().strip() == "Invoice"


def test_control_characters_in_ids_and_names_do_not_lose_the_mail(email_channel):
    raw = (
        b"From: =?utf-8?q?Mar=00ia?= <maria@example.com>\r\nTo: support@acme.test\r\n"
        b"Subject: hi\r\nMessage-ID: <a\x00b@example.com>\r\n"
        b"In-Reply-To: <c\x00d@x>\r\n\r\nHello\r\n"
    )

    mail_receive(channel=email_channel, raw=raw)

    message = Message.objects.get()
    assert message.external_id == "ab@example.com"
    assert message.conversation.customer.name == "Maria"


def test_control_characters_in_any_header_do_not_lose_the_mail(email_channel):
    raw = (
        b"From: Maria <maria@example.com>\r\nTo: support@acme.test\r\nSubject: a\x00b\r\n"
        b"Date: Mon, 1 Jan 2024 10:00:00 +1900\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee the picture\r\n"
        b'--b\r\nContent-Type: image/png; name="pic\x01.png"\r\nContent-ID: <im\x00g1>\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n"
    )

    mail_receive(channel=email_channel, raw=raw)

    message = Message.objects.get()
    assert message.body.strip() == "See the picture"
    assert message.conversation.subject == "ab"
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.content_id) == ("pic.png", "img1")
    # A zone no clock has is not believed.
    assert message.sent_at is None


def test_a_reply_whose_headers_cannot_be_built_fails_with_the_reason(
    email_channel, operator, smtp_sink
):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(subject="Broken\nBcc: x@evil.test")
    reply = message_reply(conversation=Conversation.objects.get(), author=operator, body="Hi")

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED and "not sendable" in reply.error
    assert smtp_sink.mails == []


def test_absurdly_nested_mime_is_a_json_400_not_a_crash(client, email_channel):
    depth = 1200
    parts = "".join(
        f'--b{n}\r\nContent-Type: multipart/mixed; boundary="b{n + 1}"\r\n\r\n'
        for n in range(depth)
    )
    raw = (
        "From: maria@example.com\r\nTo: support@acme.test\r\nSubject: deep\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n' + parts
    ).encode()

    response = post_mail(client, email_channel, raw)

    assert response.status_code in (200, 400), response.content
    assert response.headers["Content-Type"].startswith("application/json")


def test_admins_see_each_mailboxs_progress_and_skipped_messages(
    client, admin_user, email_channel, settings
):
    # Production settings serve static files from a manifest that tests do not build.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    state = MailboxState.objects.create(
        channel=email_channel,
        folder="INBOX",
        last_uid=41,
        last_error="UID 42 skipped, left unread on the server: import failed",
    )
    client.force_login(admin_user)

    listing = client.get("/admin/channels_app/mailboxstate/")
    detail = client.get(f"/admin/channels_app/mailboxstate/{state.pk}/change/")

    assert listing.status_code == 200 and "INBOX" in listing.content.decode()
    assert detail.status_code == 200
    assert "UID 42 skipped" in detail.content.decode()


def test_a_survey_skips_only_the_address_that_bounced(email_channel, operator, smtp_sink):
    from inbox.models import CsatSurvey, SurveyStatus
    from tests.inbox.test_csat import make_due, send_due

    mail_receive(channel=email_channel, raw=customer_mail(sender="maria.work@example.com")[0])
    work = Conversation.objects.get()
    Identity.objects.create(
        customer=work.customer, kind="email", value="maria@example.com", is_reachable=False
    )
    deliver_reply(work, operator, "Done.")
    conversation_resolve(conversation=work, resolved_by=operator)
    make_due(CsatSurvey.objects.get(conversation=work))

    send_due()

    assert CsatSurvey.objects.get(conversation=work).status == SurveyStatus.SENT
    assert smtp_sink.mails[-1].recipients == ["maria.work@example.com"]


def test_a_sender_name_longer_than_a_profile_holds_is_cut_not_lost(email_channel):
    long_name = "Maria " + "Garcia-" * 60
    raw, _ = customer_mail(sender=f'"{long_name}" <maria@example.com>')

    mail_receive(channel=email_channel, raw=raw)

    customer = Conversation.objects.get().customer
    assert customer.name == long_name.strip()[:255]


def test_processing_again_knows_the_smtp_envelope_sender(email_channel, monkeypatch):
    from channels_app import services
    from inbox import services as inbox_services

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    # The From header names nobody; only the SMTP envelope says who wrote.
    raw, _ = customer_mail(sender="undisclosed-recipients:;")
    monkeypatch.setattr(inbox_services, "message_receive", broken)
    mail_receive(channel=email_channel, raw=raw, envelope_sender="maria@example.com")
    assert WebhookEvent.objects.get().status == "failed"
    monkeypatch.undo()

    assert services.webhook_events_reprocess_failed() == 1

    assert Message.objects.get().conversation.customer.email == "maria@example.com"


def test_the_webhook_takes_the_envelope_sender_a_mail_service_reports(client, email_channel):
    nameless, _ = customer_mail(sender="undisclosed-recipients:;", message_id="<a@example.com>")
    notice, _ = customer_mail(text="Delivery report", message_id="<b@example.com>")

    for raw, envelope_sender in ((nameless, "maria@example.com"), (notice, "<>")):
        response = client.post(
            f"/webhooks/email/{email_channel.public_id}/",
            data=raw,
            content_type="message/rfc822",
            HTTP_X_SWITCHBOARD_SIGNATURE=sign(raw),
            HTTP_X_SWITCHBOARD_ENVELOPE_FROM=envelope_sender,
        )
        assert response.status_code == 200

    # The nameless mail is Maria's; the null sender's opens nothing.
    assert [message.conversation.customer.email for message in Message.objects.all()] == [
        "maria@example.com"
    ]
