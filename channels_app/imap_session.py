"""An IMAP connection to an email channel's mailbox, as a poll uses it: TLS checked,
logged in, the folder selected; messages fetched one at a time or several per command.
What a poll does with them is channels_app.imap_polling's."""

import contextlib
import imaplib
import ipaddress
import re
import ssl

from django.conf import settings

from channels_app.models import Channel

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_FETCHED_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


class MailboxUnreachable(Exception):
    pass


class MessageRefused(Exception):
    """The server answered a command about one message with NO or BAD."""


class MailboxSession:
    """The IMAP connection of one poll, with the folder selected; opened again when the
    server hangs up on a command about several messages at once."""

    def __init__(self, channel: Channel, folder: str):
        self.channel = channel
        self.folder = folder
        self.client: imaplib.IMAP4 | None = None
        self.capabilities: set[str] = set()

    def open(self) -> imaplib.IMAP4:
        self.close()
        client = connect(self.channel)
        self.client = client
        self.capabilities = capabilities_of(client)
        status, _ = client.select(quoted(self.folder))
        if status != "OK":
            raise MailboxUnreachable(f"cannot open folder {self.folder!r}")
        return client

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self.client.logout()
            self.client = None


def fetch_many(session: MailboxSession, uids: list[int]) -> dict[int, bytes] | None:
    """The messages of `uids` (those still there), fetched in one command; None when the
    server would not hand them out together (then they are asked for one by one)."""
    client = session.client
    assert client is not None
    if len(uids) == 1:
        return None
    try:
        status, data = client.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    except imaplib.IMAP4.abort:
        # The server hung up, perhaps on one message it cannot read: one by one, on a new
        # connection, finds which.
        session.open()
        return None
    except imaplib.IMAP4.error:
        return None
    if status != "OK":
        return None
    fetched: dict[int, bytes] = {}
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            uid = _FETCHED_UID.search(item[0])
            if uid is not None:
                fetched[int(uid.group(1))] = item[1]
    return fetched


def message_sizes(session: MailboxSession, uids: list[int]) -> dict[int, int]:
    """The size of each message of `uids` the server tells (none if it will not say)."""
    client = session.client
    assert client is not None
    if len(uids) < 2:
        return {}
    try:
        status, data = client.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
    except imaplib.IMAP4.abort:
        session.open()  # as fetch_many: the messages are then asked for one by one
        return {}
    except imaplib.IMAP4.error:
        return {}
    sizes: dict[int, int] = {}
    for item in data if status == "OK" else ():
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes):
            uid, size = _FETCHED_UID.search(line), _SIZE.search(line)
            if uid is not None and size is not None:
                sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def connect(channel: Channel) -> imaplib.IMAP4:
    config = channel.config
    host = str(config["imap_host"])
    use_ssl = bool(config.get("imap_use_ssl", True))
    port = int(config.get("imap_port") or (993 if use_ssl else 143))
    timeout = settings.IMAP_TIMEOUT_SECONDS
    # The server's certificate is checked against the system's authorities (or the file
    # SSL_CERT_FILE names): the password must only ever reach the real server.
    tls = ssl.create_default_context()
    try:
        client: imaplib.IMAP4 = (
            imaplib.IMAP4_SSL(host, port, timeout=timeout, ssl_context=tls)
            if use_ssl
            else imaplib.IMAP4(host, port, timeout=timeout)
        )
    except ssl.SSLError as error:
        raise MailboxUnreachable(f"TLS with {host}:{port} failed: {error}") from error
    except (TimeoutError, OSError) as error:
        raise MailboxUnreachable(f"cannot connect to {host}:{port}: {error}") from error
    if not use_ssl:
        _start_tls_or_refuse(client, host, tls)
    username = str(config.get("imap_username") or config.get("address") or "")
    try:
        client.login(username, channel.secrets.get("imap_password", ""))
    except imaplib.IMAP4.error as error:
        client.shutdown()
        raise MailboxUnreachable(f"login refused for {username}: {error}") from error
    return client


def folder_uid_validity(client: imaplib.IMAP4, folder: str) -> int:
    # SELECT's answer carries it as a response code; STATUS asks for it otherwise.
    _, values = client.response("UIDVALIDITY")
    for value in values or ():
        if value:
            return int(value)
    status, data = client.status(quoted(folder), "(UIDVALIDITY)")
    match = _UIDVALIDITY.search(data[0] or b"") if status == "OK" and data else None
    return int(match.group(1)) if match else 0


def fetch_one(client: imaplib.IMAP4, uid: int) -> bytes | None:
    status, data = message_command(client, "FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        raise MessageRefused(server_text(status, data))
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None  # expunged meanwhile


def message_command(client: imaplib.IMAP4, command: str, uid: int | str, *args: str):
    """A UID command about one message; BAD comes back as a status like NO does, while
    a lost connection (abort, OSError) is raised."""
    try:
        return client.uid(command, str(uid), *args)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as error:
        return "BAD", [str(error).encode()]


def server_text(status: str, data: list) -> str:
    text = b" ".join(item for item in data or () if isinstance(item, bytes))
    return f"{status} {text.decode('utf-8', 'replace')}".strip()[:300]


def _start_tls_or_refuse(client: imaplib.IMAP4, host: str, tls: ssl.SSLContext) -> None:
    """On a plain connection, switch to TLS when the server offers STARTTLS. Without it
    the password would cross the network readable: only a server on this machine may
    then be logged in to."""
    if "STARTTLS" in {str(item).upper() for item in client.capabilities}:
        try:
            client.starttls(ssl_context=tls)
        except (imaplib.IMAP4.error, ssl.SSLError, OSError) as error:
            client.shutdown()
            raise MailboxUnreachable(f"STARTTLS with {host} failed: {error}") from error
        return
    if not _is_loopback(host):
        client.shutdown()
        raise MailboxUnreachable(
            f"{host} offers no STARTTLS: refusing to send the password unencrypted "
            "(use imap_use_ssl, port 993)"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def capabilities_of(client: imaplib.IMAP4) -> set[str]:
    # Servers announce more after login (MOVE, UIDPLUS) than in their greeting.
    status, data = client.capability()
    if status != "OK" or not data or not data[0]:
        return {str(item).upper() for item in client.capabilities}
    return {item.decode("ascii", "replace").upper() for item in data[0].split()}


def quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
