"""How many widget sockets one network address may hold open on a server process.

Counted in the process, not the shared cache: a process that dies takes its sockets and
its counts with it, so nothing is left counted for sockets that no longer exist. With N
processes behind a balancer an address may hold up to N times the limit.
"""

from collections import Counter

from django.conf import settings

from channels_app.widget.services import address_bucket

_open_sockets: Counter[str] = Counter()


def widget_socket_slot_take(*, address: str) -> str | None:
    """Count one more socket for `address`; the key to give back on disconnect, or None
    when the address already holds WIDGET_SOCKETS_PER_ADDRESS sockets here."""
    key = address_bucket(address)
    if _open_sockets[key] >= settings.WIDGET_SOCKETS_PER_ADDRESS:
        return None
    _open_sockets[key] += 1
    return key


def widget_socket_slot_release(key: str) -> None:
    _open_sockets[key] -= 1
    if _open_sockets[key] <= 0:
        del _open_sockets[key]
