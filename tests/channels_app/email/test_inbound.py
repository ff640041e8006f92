"""Mail in, end to end inside one process: the signed webhook, threading by Message-ID
and reply address, bounces, auto-replies and our own mail coming back."""

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.utils import timezone

from channels_app.adapters.email import EmailAdapter
from channels_app.models import WebhookEvent
from channels_app.services import mail_receive
from customers.models import Identity
from inbox.models import Conversation, ConversationStatus, Message, MessageStatus
from inbox.representations import message_representation
from inbox.services import conversation_resolve
from tests.channels_app.email.helpers import (
    SUPPORT,
    customer_mail,
    deliver_reply,
    delivery_status_report,
    mailer_daemon_notice,
    post_mail,
)
from tests.factories import CustomerFactory, IdentityFactory
from tests.failure_reasons import reason_text
from tests.helpers import sign

pytestmark = pytest.mark.django_db


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
    assert "User unknown" in reason_text(reply)
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
    assert reply.status == MessageStatus.FAILED and "Mailbox full" in reason_text(reply)
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


def test_an_inline_image_the_mail_did_not_carry_is_never_requested(email_channel):
    mail = EmailMessage()
    mail["From"] = "Ivan <ivan@example.com>"
    mail["To"] = SUPPORT
    mail["Subject"] = "Logo"
    mail["Message-ID"] = make_msgid()
    mail.set_content("Our logo.")
    mail.add_alternative('<p>Our logo.</p><img src="cid:logo@x" alt="logo">', subtype="html")

    mail_receive(channel=email_channel, raw=mail.as_bytes())

    shown = message_representation(Message.objects.get())["body_html"]
    assert ' src="' not in shown
    assert 'data-missing-src="cid:logo@x"' in shown


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


def test_another_sender_reusing_a_message_id_is_kept_apart(client, email_channel):
    raw, message_id = customer_mail()
    post_mail(client, email_channel, raw)
    other, _ = customer_mail(
        sender="Tom Lee <tom@example.net>", text="A question of mine", message_id=f"<{message_id}>"
    )

    assert post_mail(client, email_channel, other).status_code == 200
    # Each sender's redelivery is a duplicate of their own message only.
    post_mail(client, email_channel, other)
    post_mail(client, email_channel, raw)

    messages = Message.objects.order_by("pk")
    assert [(m.conversation.customer.email, m.body) for m in messages] == [
        ("maria@example.com", "Hello, my parcel never arrived."),
        ("tom@example.net", "A question of mine"),
    ]
    assert messages[0].conversation_id != messages[1].conversation_id
