"""Why a reply was not delivered is stored as a code with its values and read in each
reader's language: on the operator's pages, in the API (with `error_code`) and in live
events; what the platform said itself is shown as it came. Reasons stored as English text
by earlier versions are read back into codes by a migration."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation
from django.utils.html import escape

from channels_app.failure_reasons import FailureCode, FailureReason
from inbox import realtime
from inbox.delivery_failures import WORDINGS, failure_text
from inbox.models import MessageDirection, MessageStatus
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

WINDOW = {"code": "window_closed", "platform": "WhatsApp", "hours": 24, "template": True}
REFUSED = {
    "code": "platform_refused",
    "platform": "Telegram",
    "status": 403,
    "detail": "Forbidden: user is deactivated",
}
# One stored reason of every code, with the values its sentence takes.
EVERY_REASON = {
    "window_closed": WINDOW,
    "customer_not_written_yet": {"code": "customer_not_written_yet", "platform": "Instagram"},
    "not_delivered": {"code": "not_delivered", "platform": "Viber", "detail": "desc"},
    "platform_refused": REFUSED,
    "platform_unreachable": {"code": "platform_unreachable", "platform": "VK", "detail": "x"},
    "rate_limited": {"code": "rate_limited", "platform": "Telegram", "detail": "retry after 3"},
    "recipient_unreachable": {"code": "recipient_unreachable", "platform": "Messenger"},
    "setting_missing": {"code": "setting_missing", "setting": "bot_token"},
    "credential_rejected": {
        "code": "credential_rejected",
        "platform": "VK",
        "setting": "access_token",
    },
    "setting_invalid": {"code": "setting_invalid", "setting": "api_base_url"},
    "no_recipient": {"code": "no_recipient", "platform": "Telegram"},
    "unreadable_answer": {"code": "unreadable_answer", "platform": "Instagram"},
    "secrets_unreadable": {"code": "secrets_unreadable"},
    "too_long": {"code": "too_long", "platform": "Viber", "limit": 7000},
    "nothing_to_send": {"code": "nothing_to_send"},
    "attachment_without_link": {"code": "attachment_without_link", "filename": "a.pdf"},
    "attachment_missing": {"code": "attachment_missing", "filename": "a.pdf"},
    "attachment_type_refused": {
        "code": "attachment_type_refused",
        "filename": "a.pdf",
        "types": "image",
    },
    "attachment_too_large": {"code": "attachment_too_large", "filename": "a.pdf", "limit": 25},
    "attachment_unreadable": {"code": "attachment_unreadable", "filename": "a.pdf"},
    "file_refused": {
        "code": "file_refused",
        "platform": "VK",
        "filename": "a.pdf",
        "status": 413,
        "detail": "too big",
    },
    "address_refused": {"code": "address_refused", "address": "10.0.0.1"},
    "bounced": {"code": "bounced", "detail": "550 5.1.1 User unknown"},
    "mail_refused": {"code": "mail_refused", "status": 552, "detail": "Mailbox full"},
    "mail_server_unreachable": {"code": "mail_server_unreachable", "detail": "timed out"},
    "mail_not_composable": {"code": "mail_not_composable"},
    "mail_not_sent": {"code": "mail_not_sent"},
    "widget_unreachable": {"code": "widget_unreachable"},
    "partly_sent": {"code": "partly_sent", "sent": 1, "parts": 2, "then": REFUSED},
    "outcome_unknown": {"code": "outcome_unknown", "then": REFUSED},
    "retrying": {"code": "retrying", "attempt": 2, "then": REFUSED},
    "other": {"code": "other", "detail": "Something the platform said"},
}


def failed_reply(conversation, reason):
    return MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.FAILED,
        error=reason,
    )


def worded(reason, language):
    with translation.override(language):
        return failure_text(reason)


def test_every_code_has_an_example_here():
    assert set(EVERY_REASON) == set(WORDINGS)


@pytest.mark.parametrize("language", ["ru", "pl"])
def test_every_reason_reads_in_the_operators_language_in_the_inbox(
    client, operator, channel, language
):
    conversation = ConversationFactory(channel=channel)
    for reason in EVERY_REASON.values():
        failed_reply(conversation, reason)
    operator.language = language
    operator.save()
    client.force_login(operator)

    thread = client.get(f"/inbox/conversations/{conversation.pk}/").json()["thread_html"]

    for code, reason in EVERY_REASON.items():
        text = worded(reason, language)
        assert escape(text) in thread, code
        if code != "other":
            assert text != worded(reason, "en"), f"{code} has no {language} translation"


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("ru", "Вне окна переписки WhatsApp: клиент последний раз писал более 24 часов назад"),
        ("pl", "Poza oknem rozmowy WhatsApp: klient ostatnio pisał ponad 24 godziny temu"),
    ],
)
def test_the_window_reason_is_a_whole_sentence_of_the_language(language, sentence):
    assert worded(WINDOW, language).startswith(sentence)


def test_plural_forms_follow_the_language():
    def limit(count, language):
        return worded({"code": "too_long", "platform": "Viber", "limit": count}, language)

    assert [limit(n, "ru").split()[-1] for n in (1, 2, 5, 21)] == [
        "символ.",
        "символа.",
        "символов.",
        "символ.",
    ]
    assert [limit(n, "pl").split()[-1] for n in (1, 2, 5, 22, 25)] == [
        "znak.",
        "znaki.",
        "znaków.",
        "znaki.",
        "znaków.",
    ]


@pytest.mark.parametrize("language", ["en", "pl"])
def test_the_api_words_the_reason_for_the_request_and_gives_its_code(
    operator_client, channel, language
):
    conversation = ConversationFactory(channel=channel)
    failed_reply(conversation, REFUSED)

    answer = operator_client.get(
        f"/api/v1/conversations/{conversation.pk}/messages/", HTTP_ACCEPT_LANGUAGE=language
    ).json()

    [message] = answer["results"]
    assert message["error_code"] == "platform_refused"
    assert message["error"] == worded(REFUSED, language)
    # The platform's own words stay as it gave them.
    assert message["error"].endswith("Forbidden: user is deactivated")
    if language == "pl":
        assert message["error"].startswith("Platforma Telegram nie przyjęła wiadomości (HTTP 403).")


def test_a_delivered_message_has_no_error_and_no_code(operator_client, channel):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation, direction=MessageDirection.OUTBOUND, status="sent")

    [message] = operator_client.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()[
        "results"
    ]

    assert (message["error"], message["error_code"]) == ("", "")


def test_a_live_event_words_the_reason_for_each_operators_language(channel):
    message = failed_reply(ConversationFactory(channel=channel), WINDOW)

    _groups, payload = realtime.message_updated_event(message, channel_id=channel.pk)

    for language in ("en", "ru", "pl"):
        shown = payload.by_language[language]["message"]
        assert (shown["error"], shown["error_code"]) == (
            worded(WINDOW, language),
            "window_closed",
        )


def test_a_reason_given_as_text_is_kept_as_its_detail():
    reason = FailureReason.of(FailureCode.OTHER, detail="the mail backend sent nothing")

    assert worded(reason.stored(), "ru") == "the mail backend sent nothing"


OLD_REASONS = {
    "attempt 2 failed, retrying: callback URL answered HTTP 503": {
        "code": "retrying",
        "attempt": 2,
        "then": {"code": "platform_refused", "platform": "", "status": 503},
    },
    "outside WhatsApp's 24-hour customer service window: the customer has not written in "
    "the last 24 hours; send an approved template": WINDOW,
    "outside Messenger's messaging window: the customer last wrote more than 7 days ago; "
    "the reply can no longer be sent on this channel": {
        "code": "window_closed",
        "platform": "Messenger",
        "hours": 168,
    },
    "SMTP 550: Mailbox does not exist": {
        "code": "mail_refused",
        "status": 550,
        "detail": "Mailbox does not exist",
    },
    "the channel has no bot_token configured": {"code": "setting_missing", "setting": "bot_token"},
    "sent 1 of 2 parts, then: the reply has neither text nor attachments": {
        "code": "partly_sent",
        "sent": 1,
        "parts": 2,
        "then": {"code": "nothing_to_send"},
    },
    "Telegram refused sendMessage: Bad Request: chat not found": {
        "code": "other",
        "detail": "Telegram refused sendMessage: Bad Request: chat not found",
    },
    "": {},
}


@pytest.mark.django_db(transaction=True)
def test_the_migration_reads_old_english_reasons_back_into_codes(channel):
    conversation = ConversationFactory(channel=channel)
    messages = {text: failed_reply(conversation, {}) for text in OLD_REASONS}
    call_command("migrate", "inbox", "0040", verbosity=0)
    try:
        with connection.cursor() as cursor:
            for text, message in messages.items():
                cursor.execute(
                    "UPDATE inbox_message SET error = %s WHERE id = %s", [text, message.pk]
                )
    finally:
        call_command("migrate", "inbox", verbosity=0)

    for text, message in messages.items():
        message.refresh_from_db()
        assert message.error == OLD_REASONS[text], text
