"""The mailbox password only goes to a server whose certificate checks out, and never
unencrypted across the network."""

import datetime
import ipaddress
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from channels_app.imap_polling import mailbox_poll
from channels_app.models import MailboxState
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-imap-password"


def self_signed_certificate(directory) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker.invalid")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


class ListeningImapServer:
    """Greets like an IMAP server (over TLS or not) and records every line it hears."""

    def __init__(self, tls: ssl.SSLContext | None, capabilities: bytes = b"IMAP4rev1"):
        self.tls = tls
        self.capabilities = capabilities
        self.heard: list[bytes] = []
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self.socket.accept()
        try:
            if self.tls is not None:
                connection = self.tls.wrap_socket(connection, server_side=True)
            stream = connection.makefile("rwb")
            stream.write(b"* OK [CAPABILITY " + self.capabilities + b"] ready\r\n")
            stream.flush()
            while line := stream.readline():
                self.heard.append(line)
                tag = line.split()[0]
                if b"CAPABILITY" in line.upper():
                    stream.write(
                        b"* CAPABILITY " + self.capabilities + b"\r\n" + tag + b" OK done\r\n"
                    )
                else:
                    stream.write(tag + b" NO nothing here\r\n")
                stream.flush()
        except (ssl.SSLError, OSError):
            pass  # the client refused us
        finally:
            connection.close()


def mailbox(port: int, host: str = "127.0.0.1", **config):
    channel = ChannelFactory(
        kind="email",
        config={
            "address": "support@acme.test",
            "imap_host": host,
            "imap_port": port,
            **config,
        },
    )
    channel.set_secrets({**channel.secrets, "imap_password": PASSWORD})
    channel.save()
    return channel


def test_a_server_with_an_untrusted_certificate_never_gets_the_password(tmp_path):
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*self_signed_certificate(tmp_path))
    server = ListeningImapServer(tls)
    channel = mailbox(server.port, imap_use_ssl=True)

    assert mailbox_poll(channel_id=channel.pk) == 0

    assert not any(PASSWORD.encode() in line for line in server.heard)
    state = MailboxState.objects.get(channel=channel)
    assert "certificate" in state.last_error.lower()


def test_no_password_crosses_the_network_unencrypted(monkeypatch):
    server = ListeningImapServer(tls=None)
    # As if the server stood elsewhere: the name resolves to our listener.
    real_create_connection = socket.create_connection
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda address, *args, **kwargs: real_create_connection(
            ("127.0.0.1", address[1]), *args, **kwargs
        ),
    )
    channel = mailbox(server.port, host="imap.acme.test", imap_use_ssl=False)

    assert mailbox_poll(channel_id=channel.pk) == 0

    assert not any(PASSWORD.encode() in line for line in server.heard)
    assert "STARTTLS" in MailboxState.objects.get(channel=channel).last_error
