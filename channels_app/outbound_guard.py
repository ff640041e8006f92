"""Outbound calls never reach this installation's own network by accident or by design.

Callback URLs, API base URLs and attachment links are typed by admins, API clients and
customers; fetched blindly they reach the database, the cloud's metadata service or any
intranet host. So every connection the shared HTTP client opens is checked where it is
made: the host is resolved, addresses that are not public (loopback, private, link-local,
the metadata services', shared or reserved ranges) are dropped unless one of
OUTBOUND_ALLOWED_NETWORKS holds them, and the socket connects to an address that passed.
Checking the address actually connected to, not the name, defeats a name that resolves
to a public address when checked and to a private one when used.
"""

import ipaddress
import socket
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

from channels_app.contracts import DeliveryFailed
from channels_app.failure_reasons import FailureCode, FailureReason

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def address_refused(host: str, address: str) -> DeliveryFailed:
    """The host resolved to no address outbound calls may reach: a final failure, whose
    reason operators read."""
    shown = host if host == address else f"{host} ({address})"
    return DeliveryFailed(
        FailureReason.of(FailureCode.ADDRESS_REFUSED, address=shown), is_retryable=False
    )


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def outbound_address_is_allowed(address: Address, *, allowed: Sequence[Network] = ()) -> bool:
    """Public unicast addresses, and any address inside `allowed`."""
    address = _unmapped(address)
    if any(address in network for network in allowed):
        return True
    # is_global is false for loopback, private, link-local (169.254.169.254 and the other
    # metadata addresses), shared (100.64/10), documentation and reserved ranges.
    return address.is_global and not address.is_multicast


def allowed_networks() -> tuple[Network, ...]:
    return _networks(tuple(settings.OUTBOUND_ALLOWED_NETWORKS))


def outbound_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to that may be connected to, in resolver order;
    a final DeliveryFailed when there is none (an unknown name is a connect error)."""
    try:
        literal: Address | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        candidates = [literal]
    else:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        candidates = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    allowed = allowed_networks()
    permitted = [
        str(address)
        for address in dict.fromkeys(candidates)
        if outbound_address_is_allowed(address, allowed=allowed)
    ]
    if not permitted:
        raise address_refused(host, str(candidates[0]) if candidates else host)
    return permitted


class GuardedNetworkBackend(httpcore.SyncBackend):
    """httpcore's own backend, connecting only to addresses that passed the guard. TLS
    still verifies the certificate against the host name of the URL."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = outbound_addresses(host, port)
        except socket.gaierror as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None
        raise last_error


def guarded_transport(**options: Any) -> httpx.HTTPTransport:
    """An httpx transport whose connections pass the guard."""
    transport = httpx.HTTPTransport(**options)
    pool = transport._pool
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        # A proxy from the environment: the proxy connects, and decides where to.
        return transport
    pool._network_backend = GuardedNetworkBackend()
    return transport


def outbound_url_refusal(url: str) -> str | None:
    """Why a URL an admin is saving could never be called (its host is not a public
    address and no allowed network holds it); None when it may be. A name that does not
    resolve now is let through: it is checked again on every connection."""
    host = urlsplit(url).hostname
    if not host:
        return None
    try:
        outbound_addresses(host, urlsplit(url).port or 443)
    except DeliveryFailed:
        return "points at an address that is not public; OUTBOUND_ALLOWED_NETWORKS can allow it"
    except (OSError, UnicodeError, ValueError):
        return None
    return None
