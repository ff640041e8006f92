"""A system of a customer's company receiving Switchboard's outgoing webhooks on
127.0.0.1: it checks each signature with the recipe docs/webhooks.md gives, keeps each
delivery once by its X-Switchboard-Delivery id, and can be down for a while."""

import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.fakes.server import FakeServer

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_recipe():
    """`is_from_switchboard(secret, body, signature)`, exactly as the docs print it."""
    text = DOCS.read_text()
    section = text[text.index("## Verifying the signature") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "docs/webhooks.md has no Python recipe for the signature"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # the documentation's own code, nothing else
    return namespace["is_from_switchboard"]


@dataclass
class ReceivedDelivery:
    delivery_id: str
    event: str
    payload: dict[str, Any]


@dataclass
class WebhookReceiver(FakeServer[None]):
    """Answers 200 to deliveries whose signature is right, 401 to the others, 503 to all
    while `is_down`."""

    http_methods = ("POST",)

    secret: str = ""
    is_down: bool = False
    # Every request that reached it, and the deliveries it kept (first of each id).
    attempts: Counter = field(default_factory=Counter)
    kept: dict[str, ReceivedDelivery] = field(default_factory=dict)
    bad_signatures: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.is_from_switchboard = documented_recipe()

    @property
    def url(self) -> str:
        return f"{self.root}/hooks/switchboard"

    def _handle(self, handler: BaseHTTPRequestHandler, http_method: str) -> None:
        body = self._read_body(handler)
        delivery_id = handler.headers.get("X-Switchboard-Delivery", "")
        with self._lock:
            self.attempts[delivery_id] += 1
        if self.is_down:
            self._answer(handler, 503, b"down for maintenance", "text/plain")
            return
        signature = handler.headers.get("X-Switchboard-Signature", "")
        if not self.is_from_switchboard(self.secret, body, signature):
            with self._lock:
                self.bad_signatures += 1
            self._answer(handler, 401, b"bad signature", "text/plain")
            return
        payload = json.loads(body)
        with self._lock:
            if delivery_id not in self.kept:
                self.kept[delivery_id] = ReceivedDelivery(
                    delivery_id=delivery_id,
                    event=handler.headers.get("X-Switchboard-Event", ""),
                    payload=payload,
                )
        self.arrived.set()
        self._answer(handler, 200, b'{"ok": true}', "application/json")

    def events(self, event: str) -> list[dict[str, Any]]:
        with self._lock:
            return [item.payload for item in self.kept.values() if item.event == event]
