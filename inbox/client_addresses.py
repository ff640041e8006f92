"""The address of the person behind a request or a socket, for every limit that counts
per sender (sign-in throttling, the widget's message limits, sockets per address).

A proxy appends the address it was connected from to `X-Forwarded-For`, so only the
entries added by proxies of our own can be believed: reading the header from the right,
the first address that is not one of TRUSTED_PROXIES is the client. Everything left of it
was written by the client, who may write anything there.
"""

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "unknown"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def parsed_address(text: str) -> Address | None:
    """An IP address as a proxy writes it (`[v6]:port` and `v4:port` included), or None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, networks: Sequence[Network]) -> bool:
    return any(address in network for network in networks)


def client_address(*, peer: str, forwarded_for: Iterable[str]) -> str:
    """The right-most address of `peer` and the `X-Forwarded-For` values before it that is
    not a trusted proxy; the connection's own address when it is not a trusted proxy."""
    networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
    peer_address = parsed_address(peer)
    if peer_address is None:
        return peer or UNKNOWN
    if not _is_trusted(peer_address, networks):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = parsed_address(hop)
        if address is None:
            # Garbage where a proxy of ours would have written an address: the client
            # wrote it, and the last trusted hop is the nearest address we can vouch for.
            break
        if not _is_trusted(address, networks):
            return str(address)
        peer_address = address
    return str(peer_address)


def request_client_address(request: HttpRequest) -> str:
    forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR")
    return client_address(
        peer=request.META.get("REMOTE_ADDR", ""),
        forwarded_for=[forwarded_for] if forwarded_for else [],
    )


def scope_client_address(scope: dict[str, Any]) -> str:
    """The same for an ASGI connection (a websocket)."""
    client = scope.get("client") or ("", 0)
    forwarded_for = [
        value.decode("latin-1")
        for name, value in scope.get("headers", [])
        if name == b"x-forwarded-for"
    ]
    return client_address(peer=str(client[0] or ""), forwarded_for=forwarded_for)
