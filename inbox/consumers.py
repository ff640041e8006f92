import asyncio
import json
import logging
import random
from collections import deque

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from inbox import realtime, selectors, services
from inbox.models import Conversation, User
from inbox.representations import operator_representation
from inbox.web.language import browser_language

logger = logging.getLogger(__name__)

PRESENCE_STATUSES = ("online", "away", "offline")
# Events a socket may have waiting for its client; a client that falls this far behind is
# disconnected, and catches up from the API when it reconnects.
OUTBOX_LIMIT = 1000
WEBSOCKET_TRY_AGAIN_LATER = 1013
ACCESS_RECHECK_DUE = {"type": "inbox.access.recheck"}


class InboxConsumer(AsyncWebsocketConsumer):
    """An operator's live feed: joins the groups of what they may see and forwards events.

    Clients may send `{"type": "typing", "conversation_id", "is_typing", "is_private_note"?}`,
    `{"type": "viewing", "conversation_id", "is_viewing"}` (repeated while the conversation
    stays open: pages forget a viewer they have not heard from for a minute) and
    `{"type": "presence", "status": "online"|"away"|"offline"}`.
    """

    groups_joined: list[str]
    access_recheck: asyncio.TimerHandle | None = None
    presence_status: str = "offline"
    # (conversation id, channel id) of the conversation this socket's page shows, if any.
    viewing: tuple[int, int] | None = None
    # Events from the channel layer waiting for the client, and the task sending them: it
    # exists only while there is something to send, so an idle socket keeps one task (the
    # server's, reading the client) rather than several.
    outbox: deque | None = None
    outbox_sender: asyncio.Task | None = None
    is_outbox_overflowing: bool = False
    is_accepted: bool = False
    # The operator as events show them, kept from the last time the user was read.
    operator: dict | None = None
    # What the handshake's Accept-Language asks for: events are worded in it unless the
    # operator chose a language of their own.
    browser_language: str = ""

    async def __call__(self, scope, receive, send) -> None:
        layer = get_channel_layer(self.channel_layer_alias)
        if not hasattr(layer, "new_mailbox"):
            await super().__call__(scope, receive, send)
            return
        # The layer hands this socket's events to `_take_event` as they arrive.
        self.scope = scope
        self.channel_layer = layer
        self.base_send = send
        self.channel_name = layer.new_mailbox(self._take_event)
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            layer.close_mailbox(self.channel_name)
            if self.outbox_sender is not None:
                self.outbox_sender.cancel()

    def _take_event(self, message: dict) -> None:
        if self.outbox is None:
            self.outbox = deque()
        if self.is_outbox_overflowing:
            return
        if len(self.outbox) >= OUTBOX_LIMIT:
            logger.warning("an operator socket reads too slowly: disconnecting it")
            self.is_outbox_overflowing = True
            self.outbox.clear()
            self.outbox.append({"type": "inbox.outbox.overflow"})
        else:
            self.outbox.append(message)
        if self.outbox_sender is None and self.is_accepted:
            self.outbox_sender = asyncio.create_task(self._send_outbox())

    def _start_sending(self) -> None:
        """Events that came while the socket was being set up (its own presence among
        them) go out once it is open, as they would have through Channels' own loop."""
        self.is_accepted = True
        if self.outbox and self.outbox_sender is None:
            self.outbox_sender = asyncio.create_task(self._send_outbox())

    async def _send_outbox(self) -> None:
        assert self.outbox is not None
        try:
            while self.outbox:
                try:
                    await self.dispatch(self.outbox.popleft())
                except OSError:
                    self.outbox.clear()  # the client is gone
                except Exception:
                    logger.exception("could not pass an event to an operator socket")
        finally:
            self.outbox_sender = None
            if not self.outbox:
                self.outbox = None

    async def inbox_outbox_overflow(self, event: dict) -> None:
        await self.close(code=WEBSOCKET_TRY_AGAIN_LATER)

    async def dispatch(self, message: dict) -> None:
        # Forwarding a broadcast touches no database: skip the hop to the sync thread that
        # channels makes before every message to close stale database connections.
        if message.get("type") == realtime.CONSUMER_EVENT_TYPE:
            await self.inbox_event(message)
            return
        await super().dispatch(message)

    async def connect(self) -> None:
        self.groups_joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.browser_language = browser_language(dict(self.scope.get("headers", [])))
        self.groups_joined = [
            realtime.ACCESS_GROUP,
            *await database_sync_to_async(selectors.realtime_groups_for)(user),
        ]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self._schedule_access_recheck(random.uniform(0, settings.WEBSOCKET_ACCESS_RECHECK_SECONDS))
        # Recorded before accepting, so a client that sees the socket open is listed.
        await self._set_presence("online")
        await self.accept()
        self._start_sending()

    async def disconnect(self, code: int) -> None:
        if self.access_recheck is not None:
            self.access_recheck.cancel()
            self.access_recheck = None
        await self._stop_viewing()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.groups_joined:
            await services.operator_presence_set(
                operator=self._operator(), socket=self.channel_name, status=None
            )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            event = json.loads(text_data or "")
        except ValueError:
            await self._error("messages must be JSON objects")
            return
        if not isinstance(event, dict):
            await self._error("messages must be JSON objects")
            return
        kind = event.get("type")
        if kind == "typing":
            await self._typing(event)
        elif kind == "viewing":
            await self._viewing(event)
        elif kind == "presence" and event.get("status") in PRESENCE_STATUSES:
            await self._set_presence(event["status"])
        elif kind == "ping":
            await self._set_presence(self.presence_status)
            await self.send(text_data='{"type":"pong"}')
        else:
            await self._error(f"unknown message type {kind!r}")

    async def _typing(self, event: dict) -> None:
        conversation_id = event.get("conversation_id")
        if not isinstance(conversation_id, int):
            await self._error("typing needs a conversation_id")
            return
        channel_id = await self._visible_channel_id(conversation_id)
        if channel_id is None:
            await self._error("no such conversation")
            return
        is_typing = bool(event.get("is_typing", True))
        await realtime.typing_changed(
            channel_id=channel_id,
            conversation_id=conversation_id,
            operator=self._operator(),
            is_typing=is_typing,
        )
        # Customers who can see typing (website chat) see replies being written, never
        # private notes.
        if not event.get("is_private_note"):
            await realtime.operator_typing_to_customer(
                conversation_id=conversation_id, operator=self._operator(), is_typing=is_typing
            )

    async def _viewing(self, event: dict) -> None:
        conversation_id = event.get("conversation_id")
        if not isinstance(conversation_id, int):
            await self._error("viewing needs a conversation_id")
            return
        if not event.get("is_viewing", True):
            if self.viewing and self.viewing[0] == conversation_id:
                await self._stop_viewing()
            return
        if self.viewing is None or self.viewing[0] != conversation_id:
            channel_id = await self._visible_channel_id(conversation_id)
            if channel_id is None:
                await self._error("no such conversation")
                return
            await self._stop_viewing()
            self.viewing = (conversation_id, channel_id)
        conversation_id, channel_id = self.viewing
        await realtime.viewing_changed(
            channel_id=channel_id,
            conversation_id=conversation_id,
            operator=self._operator(),
            is_viewing=True,
        )
        read_up_to = await database_sync_to_async(services.messages_mark_read_by_operator)(
            conversation_id=conversation_id
        )
        if read_up_to is not None:
            await realtime.operator_read_to_customer(
                conversation_id=conversation_id, message_id=read_up_to
            )

    async def _stop_viewing(self) -> None:
        if self.viewing is None:
            return
        conversation_id, channel_id = self.viewing
        self.viewing = None
        await realtime.viewing_changed(
            channel_id=channel_id,
            conversation_id=conversation_id,
            operator=self._operator(),
            is_viewing=False,
        )

    @database_sync_to_async
    def _visible_channel_id(self, conversation_id: int) -> int | None:
        try:
            conversation = selectors.conversation_get_for_user(
                user=self.user, conversation_id=conversation_id
            )
        except Conversation.DoesNotExist:
            return None
        return conversation.channel_id

    async def _set_presence(self, status: str) -> None:
        self.presence_status = status
        await services.operator_presence_set(
            operator=self._operator(), socket=self.channel_name, status=status
        )

    def _operator(self) -> dict:
        if self.operator is None:
            self.operator = operator_representation(self.user) or {}
        return self.operator

    async def _error(self, detail: str) -> None:
        await self.send(text_data=json.dumps({"type": "error", "detail": detail}))

    async def inbox_event(self, event: dict) -> None:
        texts = event.get("texts")
        if texts is None:
            await self.send(text_data=event["text"])
            return
        language = self.user.language or self.browser_language
        await self.send(text_data=texts.get(language, event["text"]))

    async def inbox_access_changed(self, event: dict) -> None:
        await self._refresh_access()

    def _schedule_access_recheck(self, delay: float) -> None:
        """A timer rather than a sleeping task per socket; each socket at its own point of
        the minute, so that a thousand sockets do not ask the database at once."""
        self.access_recheck = asyncio.get_running_loop().call_later(
            delay, self._take_event, ACCESS_RECHECK_DUE
        )

    async def inbox_access_recheck(self, event: dict) -> None:
        self._schedule_access_recheck(settings.WEBSOCKET_ACCESS_RECHECK_SECONDS)
        try:
            await self._refresh_access()
        except Exception:
            logger.exception("could not check the access of operator %s", self.user.pk)

    async def _refresh_access(self) -> None:
        """Follow changes of role, teams and the channels they serve; a deactivated
        operator's socket is closed."""
        groups = await database_sync_to_async(self._groups_if_still_active)()
        if groups is None:
            await self.close(code=4403)
            return
        for group in set(self.groups_joined) - set(groups):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(groups) - set(self.groups_joined):
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups

    def _groups_if_still_active(self) -> list[str] | None:
        user = User.objects.filter(pk=self.user.pk, is_active=True).first()
        if user is None:
            return None
        self.user = user
        self.operator = None
        return [realtime.ACCESS_GROUP, *selectors.realtime_groups_for(user)]
