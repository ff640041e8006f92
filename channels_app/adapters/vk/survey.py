"""Surveys on VK: the scale's values as the best keyboard the customer's app shows, and a
press on a callback button acknowledged.

What a customer's VK app can show comes with each of their messages (`client_info`), kept
on their VK identity (without it the survey goes with text buttons, which every app with
keyboards shows):
- callback buttons in the message (`callback` among `button_actions`, inline keyboards):
  a press is a `message_event`, answered with messages.sendMessageEventAnswer, which shows
  the customer the thanks and sends no message of theirs;
- text buttons: a press is the customer's message "4" carrying the rating's payload;
- no keyboard at all: the question asks for a number, which counts as the answer too.
A keyboard in the message holds at most 10 buttons: a longer scale (NPS: 0-10) goes with
text buttons.
"""

import json
import logging

from channels_app.adapters.survey_forms import question_with_scale, reply_with_a_number, rows_of
from channels_app.adapters.vk.inbound import (
    CALLBACK_BUTTONS,
    EVENT_EXTERNAL_ID_PREFIX,
    NO_KEYBOARD,
    TEXT_KEYBOARD,
    button_payload_json,
    keyboard_capability,
)
from channels_app.adapters.vk.outbound import named_random_id, random_id_key
from channels_app.adapters.vk.vk_api import KIND, VkApi
from channels_app.contracts import (
    DeliveryFailed,
    DeliveryResult,
    InboundEvent,
    InboundMessage,
    OutboundSurvey,
)
from customers.selectors import identity_client_info, identity_customer_language
from inbox import csat

logger = logging.getLogger(__name__)

# VK's keyboards: at most 5 buttons a row, and 10 in all in a keyboard inside a message.
KEYBOARD_ROW_LENGTH = 5
MAX_INLINE_BUTTONS = 10
EVENT_ANSWER_TIMEOUT_SECONDS = 3.0


def survey_send(api: VkApi, survey: OutboundSurvey) -> DeliveryResult:
    capability = keyboard_capability(
        identity_client_info(kind=KIND, value=survey.recipient_address)
    )
    if capability == CALLBACK_BUTTONS and len(survey.rating_labels) > MAX_INLINE_BUTTONS:
        capability = TEXT_KEYBOARD
    text = question_with_scale(survey)
    params = {
        "peer_id": survey.recipient_address,
        "random_id": named_random_id(key=random_id_key(api), name=f"survey:{survey.url}"),
    }
    if capability == NO_KEYBOARD:
        params["message"] = "\n".join([text, reply_with_a_number(survey)])
    else:
        params["message"] = text
        params["keyboard"] = json.dumps(_keyboard(survey, capability), ensure_ascii=False)
    sent = api.call("messages.send", params)
    is_message_id = isinstance(sent, int) and not isinstance(sent, bool) and sent > 0
    return DeliveryResult(external_id=str(sent) if is_message_id else None)


def _keyboard(survey: OutboundSurvey, capability: str) -> dict:
    action_type = "callback" if capability == CALLBACK_BUTTONS else "text"
    rows = [
        [
            {
                "action": {
                    "type": action_type,
                    "label": str(rating),
                    "payload": button_payload_json(
                        survey.button_payloads[rating], label=str(rating)
                    ),
                }
            }
            for rating in row
        ]
        for row in rows_of(sorted(survey.rating_labels), max_per_row=KEYBOARD_ROW_LENGTH)
    ]
    if capability == TEXT_KEYBOARD:
        return {"one_time": True, "buttons": rows}
    return {"inline": True, "buttons": rows}


def button_presses_answer(api: VkApi, events: list[InboundEvent]) -> None:
    """Answer callback button presses (messages.sendMessageEventAnswer): the customer's app
    stops waiting and shows the thanks. Never raises."""
    channel = api.channel
    presses = [
        event
        for event in events
        if isinstance(event, InboundMessage)
        and event.external_id.startswith(EVENT_EXTERNAL_ID_PREFIX)
    ]
    for event in presses:
        try:
            language = csat.survey_language(
                customer_language=identity_customer_language(
                    kind=KIND, value=event.recipient_address
                ),
                channel=channel,
            )
            thanks = csat.survey_text(csat.csat_settings(channel), "thank_you", language)
            api.call(
                "messages.sendMessageEventAnswer",
                {
                    "event_id": event.external_id.removeprefix(EVENT_EXTERNAL_ID_PREFIX),
                    "user_id": event.recipient_address,
                    "peer_id": event.recipient_address,
                    "event_data": json.dumps(
                        {"type": "show_snackbar", "text": thanks[:90]}, ensure_ascii=False
                    ),
                },
                timeout=EVENT_ANSWER_TIMEOUT_SECONDS,
            )
        except DeliveryFailed as failure:
            logger.info("channel %s: button press not answered: %s", channel.pk, failure.reason)
        except Exception:
            logger.exception("channel %s: answering a button press failed", channel.pk)
