"""What Meta's messaging platforms share (WhatsApp, Messenger, Instagram): the signed
Graph webhooks with their GET handshake, and how Graph API answers and errors read."""
