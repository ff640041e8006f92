"""Small things tests share: signing webhook bodies, a recording HTTP server standing in
for a callback URL, the inbox page's data."""

import hashlib
import hmac
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from kombu.exceptions import OperationalError

from tests.factories import API_SECRET
from tests.fakes.server import FakeServer


def sign(body: bytes, secret: str = API_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def inbox_page_data(page: bytes | str) -> dict[str, Any]:
    """The data the inbox page carries for its script (the list's first page and more)."""
    content = page.decode() if isinstance(page, bytes) else page
    match = re.search(r'<script id="inbox-data" type="application/json">(.*?)</script>', content)
    assert match, "the page carries its data for the scripts"
    return json.loads(match.group(1))


def api_payload(
    *,
    message_id: str = "m-1",
    sender_id: str = "u-1",
    name: str = "Maria Garcia",
    text: str = "Hello, my order is late",
    **sender_fields: Any,
) -> bytes:
    return json.dumps(
        {
            "id": message_id,
            "sender": {"id": sender_id, "name": name, **sender_fields},
            "text": text,
        }
    ).encode()


class Broker:
    """Stands for Redis at the edge of the process: takes tasks, or refuses them."""

    def __init__(self) -> None:
        self.is_up = True
        self.taken: list[tuple[str, list, float | None]] = []

    def send_task(self, name, args=None, countdown=None, **options):
        if not self.is_up:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.taken.append((name, args, countdown))


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RecordingServer(FakeServer[None]):
    """An HTTP server on 127.0.0.1 standing in for a customer's callback URL."""

    http_methods = ("POST",)

    status: int = 200
    response_body: bytes = b'{"id": "remote-1"}'
    requests: list[RecordedRequest] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)
    # Seconds to hold each answer back (a slow platform); released early by stop().
    answer_delay: float = 0.0
    released: threading.Event = field(default_factory=threading.Event)
    # Take each request, then drop the connection unanswered (a network failure after the
    # platform got it).
    lose_answers: bool = False

    @property
    def url(self) -> str:
        return f"{self.root}/callback"

    def stop(self) -> None:
        self.released.set()
        super().stop()

    def _handle(self, handler: BaseHTTPRequestHandler, http_method: str) -> None:
        self.requests.append(
            RecordedRequest(
                path=handler.path,
                headers={key.lower(): value for key, value in handler.headers.items()},
                body=self._read_body(handler),
            )
        )
        self.received.set()
        if self.lose_answers:
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.answer_delay:
            self.released.wait(self.answer_delay)
        self._answer(handler, self.status, self.response_body, "application/json")


def surveys_due_now(*, channel, operator, recipients: list[str]) -> list:
    """Resolved conversations an operator answered, one per recipient, each with its survey
    due now: what a busy day's resolves leave for the sweep, made in a few statements."""
    from secrets import token_urlsafe

    from django.utils import timezone

    from customers.models import Customer
    from inbox.models import (
        Conversation,
        ConversationStatus,
        CsatSurvey,
        Message,
        MessageDirection,
        MessageStatus,
    )

    now = timezone.now()
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Customer {recipient}") for recipient in recipients]
    )
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                customer=customer,
                channel=channel,
                recipient_address=recipient,
                status=ConversationStatus.RESOLVED,
                assignee=operator,
                resolved_by=operator,
                resolved_at=now,
                last_message_at=now,
                last_inbound_at=now,
            )
            for customer, recipient in zip(customers, recipients, strict=True)
        ]
    )
    Message.objects.bulk_create(
        [
            Message(
                conversation=conversation,
                channel=channel,
                direction=MessageDirection.OUTBOUND,
                body="All sorted!",
                status=MessageStatus.SENT,
                author=operator,
            )
            for conversation in conversations
        ]
    )
    return CsatSurvey.objects.bulk_create(
        [
            CsatSurvey(
                conversation=conversation,
                customer=conversation.customer,
                channel=channel,
                operator=operator,
                token=token_urlsafe(24),
                due_at=now,
            )
            for conversation in conversations
        ]
    )


def stored_counts() -> tuple[int, int, int, int]:
    """Customers, conversations, messages and raw webhook events stored: what a refused
    or duplicate delivery must leave unchanged."""
    from channels_app.models import WebhookEvent
    from customers.models import Customer
    from inbox.models import Conversation, Message

    return (
        Customer.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        WebhookEvent.objects.count(),
    )


def channel_serving(team, *, kind: str, name: str, config: dict[str, Any]):
    """A channel created through the service, served by `team`."""
    from channels_app.services import channel_create

    channel = channel_create(kind=kind, name=name, config=config)
    channel.teams.set([team])
    return channel


def surveys_sent_after_resolving(conversation, operator, *, kind: str = "") -> None:
    """The operator resolves the conversation and its survey, due at once, goes out; a
    `kind` makes it that kind's survey (as a channel asking it would)."""
    from django.utils import timezone

    from channels_app.services import csat_survey_send
    from inbox import csat
    from inbox.models import CsatSurvey
    from inbox.services import conversation_resolve

    conversation_resolve(conversation=conversation, resolved_by=operator)
    CsatSurvey.objects.filter(conversation=conversation).update(
        due_at=timezone.now(), **({"kind": kind} if kind else {})
    )
    for survey_id in csat.csat_surveys_queue_due():
        csat_survey_send(survey_id=survey_id)


def survey_sent(*, conversation, operator, reply: str = "All sorted!", kind: str = ""):
    """The operator replies and resolves; the survey (of `kind`, if given) falls due and
    the worker sends it. Returns the conversation's survey as it then is."""
    from inbox.models import CsatSurvey
    from inbox.services import message_reply

    message_reply(conversation=conversation, author=operator, body=reply)
    surveys_sent_after_resolving(conversation, operator, kind=kind)
    return CsatSurvey.objects.get(conversation=conversation)


def run_admin_action(client, admin_user, settings, action: str, channel) -> list[str]:
    """Run a Django admin action on one channel as an admin; returns the messages shown."""
    # Production settings serve static files from a manifest that tests do not build.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client.force_login(admin_user)
    response = client.post(
        "/admin/channels_app/channel/",
        {"action": action, "_selected_action": [channel.pk]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def message_as_read(message, language: str = "en") -> str:
    """A stored message as a reader in `language` reads it: its body, then its content
    items worded in that language."""
    from django.utils import translation

    from inbox.content_items import message_text

    with translation.override(language):
        return message_text(message.body, message.content_items)
