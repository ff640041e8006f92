"""Replies and surveys going out to WhatsApp: free-form inside the 24-hour customer
service window, the approved template outside it (a reply's `fallback_template`, a
survey's `survey_template`)."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext

from channels_app.adapters.base import send_in_parts
from channels_app.adapters.survey_forms import (
    choice_titles,
    question_with_scale,
    reply_with_a_number,
)
from channels_app.adapters.whatsapp.graph_api import WINDOW_CLOSED, GraphApi
from channels_app.adapters.whatsapp.setup import is_http_url, survey_template_problem
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryResult,
    OutboundAttachment,
    OutboundMessage,
    OutboundSurvey,
    SurveyNotAllowed,
)
from channels_app.failure_reasons import FailureCode, FailureReason

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)

# Meta's limits for a text message and for a media caption.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_TEMPLATE_PARAMETER_LENGTH = 1024
# A template holds at most 10 quick-reply buttons.
MAX_TEMPLATE_QUICK_REPLIES = 10
NO_SURVEY_TEMPLATE_REASON = (
    "outside WhatsApp's 24-hour customer service window and the channel has no approved "
    "survey template (survey_template) to send instead"
)
# Interactive messages: a list holds at most 10 rows in all; a row's and a section's
# title 24 characters, a button's text 20, the body 1024.
MAX_LIST_ROWS = 10
MAX_ROW_TITLE_LENGTH = 24
MAX_BUTTON_TEXT_LENGTH = 20
MAX_INTERACTIVE_BODY_LENGTH = 1024

CAPTIONED_MEDIA_TYPES = frozenset({"image", "video", "document"})

WA_ID = re.compile(r"[0-9]{5,20}")


def message_send(graph: GraphApi, outbound: OutboundMessage) -> DeliveryResult:
    already_sent = outbound.already_sent
    if not _is_window_open(outbound.customer_last_message_at):
        template = graph.channel.config.get("fallback_template")
        # A template in place of the rest of a reply begun in the window would read
        # as a second message.
        if not template or already_sent.parts_sent:
            raise DeliveryFailed(WINDOW_CLOSED, is_retryable=False)
        return DeliveryResult(external_id=graph.post_message(_template_payload(outbound, template)))
    payloads = _session_payloads(outbound)
    return send_in_parts(
        payloads,
        graph.post_message,
        already_sent=already_sent,
        record_progress=outbound.record_progress,
    )


def survey_send(graph: GraphApi, survey: OutboundSurvey) -> DeliveryResult:
    """The question as an interactive list of the scale's values; the chosen row comes back
    as a list_reply whose id is the value's button payload. A scale longer than a list
    holds (NPS: 0-10) goes as a button to the survey page, with a typed number taken too.
    Outside the 24-hour window only an approved template may go: the channel's survey
    template, or none and the survey is skipped (SurveyNotAllowed), not failed."""
    if not _is_window_open(survey.customer_last_message_at):
        template = graph.channel.config.get("survey_template")
        if not template:
            raise SurveyNotAllowed(
                NO_SURVEY_TEMPLATE_REASON, reason_code=SurveyNotAllowed.NO_TEMPLATE
            )
        # Checked when saved (API, admin form); one stored past those checks skips the survey.
        if problem := survey_template_problem(template):
            raise SurveyNotAllowed(
                f"outside WhatsApp's 24-hour customer service window, and the channel's "
                f"survey_template cannot be used: {problem}",
                reason_code=SurveyNotAllowed.NO_TEMPLATE,
            )
        payload = survey_template_payload(
            survey, template, channel_language=str(graph.channel.config.get("language") or "")
        )
        return DeliveryResult(external_id=graph.post_message(payload))
    if len(survey.rating_labels) > MAX_LIST_ROWS:
        return DeliveryResult(external_id=graph.post_message(_survey_page_button(survey)))
    titles = choice_titles(survey, max_length=MAX_ROW_TITLE_LENGTH)
    rows = [
        {"id": survey.button_payloads[rating], "title": titles[rating]}
        for rating in sorted(survey.rating_labels, reverse=True)
    ]
    payload = {
        **_addressed(survey.recipient_address),
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": survey.question[:MAX_INTERACTIVE_BODY_LENGTH]},
            "action": {
                "button": gettext("Rate us")[:MAX_BUTTON_TEXT_LENGTH],
                "sections": [
                    {"title": gettext("Your rating")[:MAX_ROW_TITLE_LENGTH], "rows": rows}
                ],
            },
        },
    }
    return DeliveryResult(external_id=graph.post_message(payload))


def survey_template_payload(
    survey: OutboundSurvey, template: dict[str, Any], *, channel_language: str = ""
) -> dict[str, Any]:
    """The channel's approved survey template in the survey's language. Quick-reply
    buttons carry each value's payload, the template's buttons being the scale's values
    from the highest down (as the native list shows them); a URL button's link ends with
    the survey's token (the template's URL is `https://<host>/survey/{{1}}`)."""
    ratings = sorted(survey.rating_labels, reverse=True)
    if template.get("buttons") == "quick_reply":
        if len(ratings) > MAX_TEMPLATE_QUICK_REPLIES:
            raise SurveyNotAllowed(
                f"the channel's survey template has quick-reply buttons, which cannot hold "
                f"the {len(ratings)} values of a {survey.kind.upper()} survey; a template "
                "with a URL button can",
                reason_code=SurveyNotAllowed.NO_TEMPLATE,
            )
        components = [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": survey.button_payloads[rating]}],
            }
            for index, rating in enumerate(ratings)
        ]
    else:
        token = urlsplit(survey.url).path.rstrip("/").rsplit("/", 1)[-1]
        components = [
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": token}],
            }
        ]
    return {
        **_addressed(survey.recipient_address),
        "type": "template",
        "template": {
            "name": template["name"],
            "language": {
                "code": template_language(
                    template, survey.language, channel_language=channel_language
                )
            },
            "components": components,
        },
    }


def template_language(template: dict[str, Any], language: str, *, channel_language: str) -> str:
    """The template's language code for a reader of `language` ("ru", "pt-br"): its own,
    else that of its base language, else that of the channel's language, else that of the
    installation's; else any (the stored order of the mapping is not the admin's)."""
    languages: dict[str, str] = template.get("languages") or {}
    for code in (language, language.split("-")[0], channel_language, settings.LANGUAGE_CODE):
        if code in languages:
            return languages[code]
    return languages[min(languages)]


def _survey_page_button(survey: OutboundSurvey) -> dict[str, Any]:
    body = "\n".join([question_with_scale(survey), reply_with_a_number(survey)])
    return {
        **_addressed(survey.recipient_address),
        "type": "interactive",
        "interactive": {
            "type": "cta_url",
            "body": {"text": body[:MAX_INTERACTIVE_BODY_LENGTH]},
            "action": {
                "name": "cta_url",
                "parameters": {
                    "display_text": gettext("Answer")[:MAX_BUTTON_TEXT_LENGTH],
                    "url": survey.url,
                },
            },
        },
    }


def _is_window_open(customer_last_message_at: datetime | None) -> bool:
    if customer_last_message_at is None:
        return False
    if customer_last_message_at.tzinfo is None:
        customer_last_message_at = customer_last_message_at.replace(tzinfo=UTC)
    return datetime.now(UTC) - customer_last_message_at < CUSTOMER_SERVICE_WINDOW


def _addressed(recipient_address: str) -> dict[str, Any]:
    # A phone number (wa_id) goes in `to`; a business-scoped user id, the only address of
    # a customer who hides their number behind a username, in `recipient`.
    key = "to" if WA_ID.fullmatch(recipient_address) else "recipient"
    return {"messaging_product": "whatsapp", "recipient_type": "individual", key: recipient_address}


def _session_payloads(outbound: OutboundMessage) -> list[dict[str, Any]]:
    """The requests for a free-form reply: its text, then its files (the first file may
    carry the text as its caption)."""
    text = outbound.text
    if len(text) > MAX_TEXT_LENGTH:
        raise DeliveryFailed(
            FailureReason.of(FailureCode.TOO_LONG, platform="WhatsApp", limit=MAX_TEXT_LENGTH),
            is_retryable=False,
        )
    for attachment in outbound.attachments:
        if not is_http_url(attachment.url):
            raise DeliveryFailed(
                FailureReason.of(FailureCode.ATTACHMENT_WITHOUT_LINK, filename=attachment.filename),
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
        raise DeliveryFailed(FailureReason.of(FailureCode.NOTHING_TO_SEND), is_retryable=False)
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
