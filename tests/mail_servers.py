"""Real mail servers for tests: Debian's dovecot as an IMAP server on loopback, and an
aiosmtpd sink that records what our outgoing SMTP delivers."""

import email
import email.policy
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT)


@dataclass
class DovecotServer:
    """A throwaway dovecot: plain IMAP on 127.0.0.1, one mailbox user, maildir in a temp dir."""

    username: str = "support@example.com"
    password: str = "imap-secret"
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dovecot-")))
    process: subprocess.Popen | None = None

    def start(self) -> "DovecotServer":
        # Dovecot refuses mail access as root: mailboxes belong to `mail` when we are root.
        owner = "mail" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        # Dovecot's auth and login processes run as their own users and must read in here.
        self.directory.chmod(0o755)
        for name in ("run", "state", "home"):
            (self.directory / name).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            record = pwd.getpwnam(owner)
            os.chown(self.directory / "home", record.pw_uid, record.pw_gid)
        (self.directory / "users").write_text(f"{self.username}:{{PLAIN}}{self.password}::::::\n")
        unprivileged = (
            ""
            if os.geteuid() == 0
            else f"default_internal_user = {owner}\ndefault_login_user = {owner}\n"
        )
        config = self.directory / "dovecot.conf"
        config.write_text(
            f"""base_dir = {self.directory}/run
state_dir = {self.directory}/state
log_path = {self.directory}/dovecot.log
instance_name = switchboard-test-{self.port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
{unprivileged}mail_location = maildir:{self.directory}/home/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.directory}/users
}}
userdb {{
  driver = static
  args = uid={owner} gid={owner} home={self.directory}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
"""
        )
        self.process = subprocess.Popen(
            [DOVECOT, "-c", str(config), "-F"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.stderr.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("dovecot did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.username, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message into the mailbox the way a mail server would (IMAP APPEND)."""
        client = self.client()
        try:
            client.create(folder)
            status, _ = client.append(folder, None, None, raw)
            assert status == "OK"
        finally:
            client.logout()

    def folder_flags(self, folder: str = "INBOX") -> dict[int, bytes]:
        """UID → FLAGS of every message in a folder."""
        client = self.client()
        try:
            client.select(folder)
            _status, data = client.uid("FETCH", "1:*", "(FLAGS)")
            flags: dict[int, bytes] = {}
            for item in data:
                if isinstance(item, bytes) and b"UID" in item:
                    uid = int(item.split(b"UID ")[1].split()[0].rstrip(b")"))
                    flags[uid] = item
            return flags
        finally:
            client.logout()


@dataclass
class CapturedMail:
    mail_from: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that records every mail it is given;
    `refuse_with` makes it answer each message with that SMTP reply instead."""

    port: int = field(default_factory=free_port)
    mails: list[CapturedMail] = field(default_factory=list)
    refuse_with: str = ""
    received: threading.Event = field(default_factory=threading.Event)
    controller: Any = None

    def start(self) -> "SmtpSink":
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if sink.refuse_with:
                    return sink.refuse_with
                sink.mails.append(
                    CapturedMail(
                        mail_from=envelope.mail_from,
                        recipients=list(envelope.rcpt_tos),
                        raw=envelope.original_content or envelope.content,
                    )
                )
                sink.received.set()
                return "250 2.0.0 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
