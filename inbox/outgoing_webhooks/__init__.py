"""Outgoing webhooks: events of the inbox POSTed, signed, to the addresses admins
subscribe (models, emitting, the delivery log's bookkeeping). The HTTP call itself is
made by channels_app.outgoing_webhooks, which owns outbound connections."""
