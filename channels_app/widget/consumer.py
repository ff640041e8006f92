"""The visitor's socket: `ws /ws/widget/<public_id>/`.

Handshake: refused unless the channel is an active webchat channel and the page's Origin
is one of its `allowed_origins`. The first frame must be `{"type": "hello", "token"?}`
(the token from an earlier `ready`, kept by the browser; not in the URL, which access
logs keep); the server answers `ready` with the token to keep. Then the visitor sends
`message`, `typing`, `read`, `identify`, `history`, `rating` and `ping` frames, and gets
`message`, `typing`, `read`, `rating_request`, `notice`, `identified`, `history`, `pong`
and `error` frames. See docs/channels/webchat.md.
"""

import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from channels_app.models import Channel
from channels_app.widget import selectors, services
from channels_app.widget.realtime import visitor_group, visitor_mark_online
from channels_app.widget.socket_limits import widget_socket_slot_release, widget_socket_slot_take
from channels_app.widget.visitors import (
    Visitor,
    visitor_from_token,
    visitor_new,
    visitor_token,
)
from customers.languages import supported_language
from inbox import realtime as inbox_realtime
from inbox.client_addresses import scope_client_address

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
MAX_FIELD_LENGTH = 320
TYPING_FORWARD_EVERY_SECONDS = 2.0
TYPING_RESTART_AFTER_SECONDS = 1.0
FRAMES_PER_WINDOW = 60
FRAME_WINDOW_SECONDS = 10
# The handshake's answer when the address already holds WIDGET_SOCKETS_PER_ADDRESS sockets.
CLOSE_TOO_MANY_SOCKETS = 4429


class WidgetConsumer(AsyncJsonWebsocketConsumer):
    channel: Channel
    visitor: Visitor | None = None
    language: str = ""
    conversation_id: int | None = None
    customer: dict[str, Any] | None = None
    groups_joined: list[str]
    typing_started_forwarded_at: float = -TYPING_FORWARD_EVERY_SECONDS
    typing_state: bool = False
    frame_window: int = 0
    frames_in_window: int = 0
    socket_slot: str | None = None

    async def connect(self) -> None:
        self.groups_joined = []
        self.socket_slot = widget_socket_slot_take(address=self._address())
        if self.socket_slot is None:
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        public_id = str(self.scope["url_route"]["kwargs"]["public_id"])
        channel = await database_sync_to_async(services.widget_channel_for_origin)(
            public_id=public_id, origin=_header(self.scope, b"origin")
        )
        if channel is None:
            await self.close()
            return
        self.channel = channel
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.socket_slot is not None:
            widget_socket_slot_release(self.socket_slot)
            self.socket_slot = None
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.typing_state and self.conversation_id is not None:
            await self._forward_typing(is_typing=False)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._error("invalid", "frames are JSON text")
            return
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            await self._error("too_large", f"frames are at most {MAX_FRAME_BYTES} bytes")
            return
        if not self._frame_budget_allows():
            await self._error("rate_limited", "too many frames; slow down")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self._error("invalid", "frames must be JSON objects")
            return
        if not isinstance(frame, dict):
            await self._error("invalid", "frames must be JSON objects")
            return
        await self.receive_json(frame)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type")
        if kind == "hello":
            await self._hello(content)
        elif kind == "ping":
            if self.visitor is not None:
                await visitor_mark_online(
                    channel_id=self.channel.pk, visitor_id=self.visitor.visitor_id
                )
            await self.send_json({"type": "pong"})
        elif self.visitor is None:
            await self._error("hello_required", "send a hello frame first")
        elif kind == "message":
            await self._message(content)
        elif kind == "typing":
            await self._typing(content)
        elif kind == "read":
            await self._read(content)
        elif kind == "identify":
            await self._identify(content)
        elif kind == "history":
            await self._history()
        elif kind == "rating":
            await self._rating(content)
        else:
            await self._error("invalid", "unknown frame type")

    # -- frames from the visitor -------------------------------------------------------

    async def _hello(self, frame: dict[str, Any]) -> None:
        if self.visitor is not None:
            await self._error("invalid", "hello was already sent")
            return
        public_id = str(self.channel.public_id)
        token = frame.get("token")
        visitor = (
            visitor_from_token(public_id=public_id, token=token) if isinstance(token, str) else None
        )
        self.visitor = visitor or visitor_new()
        # The widget's language (the site's choice, else the browser's): the customer's.
        self.language = supported_language(frame.get("language"))
        await self._join(
            visitor_group(channel_id=self.channel.pk, visitor_id=self.visitor.visitor_id)
        )
        await visitor_mark_online(channel_id=self.channel.pk, visitor_id=self.visitor.visitor_id)
        conversation = await database_sync_to_async(selectors.visitor_conversation_latest)(
            channel=self.channel, visitor=self.visitor
        )
        if conversation is not None:
            await self._follow_conversation(
                conversation.conversation_id, conversation.customer_id, conversation.customer_name
            )
        operators_online = await database_sync_to_async(selectors.operators_are_online)()
        await self.send_json(
            {
                "type": "ready",
                "token": visitor_token(public_id=public_id, visitor=self.visitor),
                "visitor": self._visitor_representation(),
                "config": services.widget_public_config(self.channel),
                "operators_online": operators_online,
                "offline_message": self.channel.config.get("offline_message") or "",
            }
        )

    async def _message(self, frame: dict[str, Any]) -> None:
        assert self.visitor is not None
        text = frame.get("text")
        if not isinstance(text, str):
            await self._error("invalid", "a message needs text")
            return
        client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else ""
        await self._store(text=text, client_id=client_id or "")

    async def _rating(self, frame: dict[str, Any]) -> None:
        rating, payload = frame.get("rating"), frame.get("payload")
        # The survey's own scale is checked where the answer is recorded; a number off it
        # gets the customer a hint there.
        if not isinstance(rating, int) or isinstance(rating, bool) or not 0 <= rating <= 10:
            await self._error("invalid", "rating must be a whole number from 0 to 10")
            return
        if not isinstance(payload, str) or len(payload) > 200:
            await self._error("invalid", "a rating carries the payload of its rating_request")
            return
        survey = frame.get("survey")
        await self._store(
            text=str(rating), client_id=f"rating-{survey}-{rating}", button_payload=payload
        )

    async def _store(self, *, text: str, client_id: str, button_payload: str = "") -> None:
        assert self.visitor is not None
        if len(text) > services.MAX_TEXT_LENGTH:
            await self._error(
                "too_large", f"a message holds at most {services.MAX_TEXT_LENGTH} characters"
            )
            return
        if not await services.visitor_message_allowed(
            visitor_id=self.visitor.visitor_id, address=self._address()
        ):
            await self._error("rate_limited", "too many messages; wait a few seconds")
            return
        try:
            outcome = await database_sync_to_async(services.visitor_message_send)(
                channel=self.channel,
                visitor=self.visitor,
                text=text,
                client_id=client_id,
                button_payload=button_payload,
                language=self.language,
            )
        except services.VisitorMessageRefused as refusal:
            await self._error(refusal.code, refusal.detail)
            return
        await self._follow_conversation(
            outcome.conversation_id, outcome.customer_id, outcome.customer_name
        )
        frames: list[dict[str, Any]] = [{"type": "message", "message": outcome.message}]
        if outcome.is_new_conversation and not outcome.is_duplicate:
            operators_online = await database_sync_to_async(selectors.operators_are_online)()
            offline_message = self.channel.config.get("offline_message") or ""
            if not operators_online and offline_message:
                frames.append({"type": "notice", "code": "offline", "message": offline_message})
        # Every tab of this visitor shows the message (the sending one matches client_id),
        # in order, through the one group.
        for frame in frames:
            await self.channel_layer.group_send(
                visitor_group(channel_id=self.channel.pk, visitor_id=self.visitor.visitor_id),
                {"type": "widget.event", "text": json.dumps(frame)},
            )
        if self.typing_state:
            await self._forward_typing(is_typing=False)

    async def _typing(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is None:
            return
        is_typing = bool(frame.get("is_typing", True))
        now = time.monotonic()
        # A visitor's keystrokes become at most one "typing" every two seconds (one a
        # second after a pause), and a "stopped" only follows a "typing": toggling
        # cannot flood the operators.
        if is_typing:
            wait = (
                TYPING_FORWARD_EVERY_SECONDS if self.typing_state else TYPING_RESTART_AFTER_SECONDS
            )
            if now - self.typing_started_forwarded_at < wait:
                return
            self.typing_started_forwarded_at = now
        elif not self.typing_state:
            return
        await self._forward_typing(is_typing=is_typing)

    async def _forward_typing(self, *, is_typing: bool) -> None:
        assert self.conversation_id is not None and self.customer is not None
        self.typing_state = is_typing
        await inbox_realtime.customer_typing_changed(
            channel_id=self.channel.pk,
            conversation_id=self.conversation_id,
            customer=self.customer,
            is_typing=is_typing,
        )

    async def _read(self, frame: dict[str, Any]) -> None:
        assert self.visitor is not None
        message_id = frame.get("message_id")
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            await self._error("invalid", "read needs a message_id")
            return
        await database_sync_to_async(services.visitor_mark_read)(
            channel=self.channel, visitor=self.visitor, up_to_message_id=message_id
        )

    async def _identify(self, frame: dict[str, Any]) -> None:
        assert self.visitor is not None
        previous = self.visitor
        fields = {
            key: frame.get(key) or ""
            for key in ("name", "email", "user_id", "user_hash", "email_hash")
        }
        if not all(
            isinstance(value, str) and len(value) <= MAX_FIELD_LENGTH for value in fields.values()
        ):
            await self._error(
                "invalid", f"identify fields are strings of at most {MAX_FIELD_LENGTH} characters"
            )
            return
        try:
            self.visitor = services.visitor_identify(
                channel=self.channel,
                visitor=self.visitor,
                name=fields["name"].strip(),
                email=fields["email"].strip(),
                user_id=fields["user_id"].strip(),
                user_hash=fields["user_hash"],
                email_hash=fields["email_hash"],
            )
        except services.IdentityNotVerified:
            await self._error("identity_invalid", "user_hash does not match user_id")
            return
        if self.visitor.visitor_id != previous.visitor_id:
            await self._become(self.visitor, previous)
        await self.send_json(
            {
                "type": "identified",
                "token": visitor_token(public_id=str(self.channel.public_id), visitor=self.visitor),
                "visitor": self._visitor_representation(),
            }
        )

    async def _history(self) -> None:
        assert self.visitor is not None
        messages = await database_sync_to_async(selectors.visitor_history)(
            channel=self.channel, visitor=self.visitor
        )
        await self.send_json({"type": "history", "messages": messages})

    # -- events for the visitor ----------------------------------------------------------

    async def widget_event(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])

    async def inbox_event(self, event: dict[str, Any]) -> None:
        """The conversation's customer group carries operators' typing and read receipts."""
        payload = json.loads(event["text"])
        if payload.get("type") == "read" and isinstance(payload.get("message_id"), int):
            await self.send_json({"type": "read", "message_id": payload["message_id"]})
            return
        if payload.get("type") != "typing":
            return
        operator = payload.get("operator") or {}
        await self.send_json(
            {
                "type": "typing",
                "is_typing": bool(payload.get("is_typing")),
                "name": operator.get("name", ""),
            }
        )

    # -- helpers ---------------------------------------------------------------------------

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)

    async def _follow_conversation(self, conversation_id: int, customer_id: int, name: str) -> None:
        if conversation_id != self.conversation_id:
            if self.conversation_id is not None:
                previous = inbox_realtime.conversation_customer_group(self.conversation_id)
                await self.channel_layer.group_discard(previous, self.channel_name)
                self.groups_joined.remove(previous)
            await self._join(inbox_realtime.conversation_customer_group(conversation_id))
            self.conversation_id = conversation_id
        self.customer = {
            "id": customer_id,
            "name": name or (self.visitor.name if self.visitor else ""),
        }

    async def _become(self, visitor: Visitor, previous: Visitor) -> None:
        """Switch this socket to another visitor (another account signed in)."""
        for group in list(self.groups_joined):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []
        self.conversation_id = None
        self.customer = None
        await self._join(visitor_group(channel_id=self.channel.pk, visitor_id=visitor.visitor_id))

    def _frame_budget_allows(self) -> bool:
        # Reads, history and typing cost queries or fan-out too; messages have their own,
        # shared limits on top (services.visitor_message_allowed).
        window = int(time.monotonic() // FRAME_WINDOW_SECONDS)
        if window != self.frame_window:
            self.frame_window, self.frames_in_window = window, 0
        self.frames_in_window += 1
        return self.frames_in_window <= FRAMES_PER_WINDOW

    def _visitor_representation(self) -> dict[str, Any]:
        assert self.visitor is not None
        return {
            "id": self.visitor.visitor_id,
            "name": self.visitor.name,
            "email": self.visitor.email,
            "is_verified": self.visitor.is_verified,
            "user_id": self.visitor.user_id,
        }

    def _address(self) -> str:
        return scope_client_address(self.scope)

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None
