"""Storing inbound messages: the regular path and the batched path, side by side.

- regular.message_receive: any inbound message, one transaction through the ORM
  (called by channels_app.services for webhooks, mail and the widget).
- batched.message_receive_batched: a known sender's message into their open
  conversation, or a new sender's first message, several per statement on the event loop
  (chosen by channels_app.webhook_edge); anything else it declines, to the regular path.
- stored: what both store (an inbound message's columns, a new conversation's team,
  auto-assignment); rows: model instances as rows for the batched statements.
"""
