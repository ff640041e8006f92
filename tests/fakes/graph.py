"""What the fake Graph API servers (WhatsApp, Messenger, Instagram) share: Meta's error
answer and the record of a request."""

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GraphError:
    """An error the way the Graph API answers it: an HTTP status and `{"error": {...}}`."""

    status: int
    code: int
    message: str
    details: str = ""
    error_subcode: int | None = None
    error_type: str = "OAuthException"
    retry_after: int | None = None
    # WhatsApp's errors name their product in error_data; the Messenger Platform's do not.
    product: str | None = "whatsapp"

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
            "fbtrace_id": "AazPJ2i5d8ME1nvSJfSPPhw",
        }
        if self.error_subcode is not None:
            error["error_subcode"] = self.error_subcode
        if self.details:
            error["error_data"] = {"details": self.details}
            if self.product:
                error["error_data"]["messaging_product"] = self.product
        return {"error": error}


@dataclass
class GraphCall:
    """One request a fake Graph API received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)
