"""Mail out through a real SMTP server (an aiosmtpd sink): replies with threading headers
and attachments, SMTP errors retried or final, surveys as links."""

import pytest
from django.core.files.base import ContentFile

from channels_app.adapters.email import EmailAdapter
from channels_app.services import mail_receive, message_deliver
from customers.models import Identity
from inbox.models import Attachment, Conversation, MessageStatus
from inbox.services import conversation_resolve, message_reply
from tests.channels_app.email.helpers import SUPPORT, customer_mail, deliver_reply
from tests.failure_reasons import reason_text

pytestmark = pytest.mark.django_db


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


def test_a_refused_recipient_fails_at_once_with_the_smtp_error(email_channel, operator, smtp_sink):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    smtp_sink.refuse_with = "550 5.1.1 Mailbox does not exist"
    reply = message_reply(conversation=Conversation.objects.get(), author=operator, body="Hi")

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert "SMTP 550" in reason_text(reply) and "Mailbox does not exist" in reason_text(reply)


def test_a_temporary_smtp_error_is_retried_then_shown_failed(email_channel, operator, smtp_sink):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    smtp_sink.refuse_with = "451 4.3.0 Try again later"
    reply = message_reply(conversation=Conversation.objects.get(), author=operator, body="Hi")

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=2) is not None
    reply.refresh_from_db()
    assert reply.status == MessageStatus.QUEUED and "retrying" in reason_text(reply)

    assert message_deliver(message_id=reply.pk, attempt=2, max_attempts=2) is None
    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED and "SMTP 451" in reason_text(reply)


def test_an_unreachable_mail_server_is_retried(email_channel, operator, smtp_sink):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    smtp_sink.stop()
    reply = message_reply(conversation=Conversation.objects.get(), author=operator, body="Hi")

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is not None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.QUEUED


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


def test_a_reply_whose_headers_cannot_be_built_fails_with_the_reason(
    email_channel, operator, smtp_sink
):
    mail_receive(channel=email_channel, raw=customer_mail()[0])
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(subject="Broken\nBcc: x@evil.test")
    reply = message_reply(conversation=Conversation.objects.get(), author=operator, body="Hi")

    assert message_deliver(message_id=reply.pk, attempt=1, max_attempts=3) is None

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert reply.error == {"code": "mail_not_composable"}
    assert "a header in it is not valid" in reason_text(reply)
    assert smtp_sink.mails == []


def test_an_nps_survey_mails_the_eleven_values_in_one_row_with_their_ends(email_channel, smtp_sink):
    from channels_app.contracts import OutboundSurvey

    labels = {value: str(value) for value in range(11)}
    labels.update({0: "Not at all likely", 10: "Extremely likely"})
    EmailAdapter(email_channel).send_survey(
        OutboundSurvey(
            survey_id=8,
            conversation_id=1,
            recipient_address="maria@example.com",
            question="How likely are you to recommend us?",
            url="http://testserver/survey/tok/",
            rating_labels=labels,
            button_payloads={},
            kind="nps",
        )
    )

    sent = smtp_sink.mails[0].message
    html = sent.get_body(("html",)).get_content()
    plain = sent.get_body(("plain",)).get_content()
    assert all(f"http://testserver/survey/tok/?rating={value}" in html for value in range(11))
    assert "0 = not at all likely, 10 = extremely likely" in plain
    assert "10: http://testserver/survey/tok/?rating=10" in plain


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
