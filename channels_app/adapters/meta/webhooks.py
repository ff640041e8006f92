"""Meta's Graph webhooks: the GET handshake that proves a callback URL is ours, and the
`X-Hub-Signature-256` every POST carries."""

import hmac

from channels_app.adapters.base import ChannelAdapter, check_sha256_signature
from channels_app.contracts import SignatureInvalid, VerificationAnswer, WebhookRequest

SIGNATURE_HEADER = "x-hub-signature-256"
MAX_CHALLENGE_LENGTH = 200


def signature_check(app_secret: str | None, request: WebhookRequest) -> None:
    """`X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the app secret."""
    check_sha256_signature(
        header_value=request.headers.get(SIGNATURE_HEADER), secret=app_secret, body=request.body
    )


def verification_answer(verify_token: str | None, request: WebhookRequest) -> VerificationAnswer:
    """Echo `hub.challenge` when `hub.verify_token` is the channel's."""
    if not verify_token:
        raise SignatureInvalid("the channel has no verify_token configured", status_code=403)
    mode = request.query.get("hub.mode")
    token = request.query.get("hub.verify_token")
    challenge = request.query.get("hub.challenge")
    if mode != "subscribe" or token is None or not challenge:
        raise SignatureInvalid(
            "expected hub.mode=subscribe, hub.verify_token and hub.challenge",
            status_code=403,
        )
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        raise SignatureInvalid("hub.verify_token does not match", status_code=403)
    if len(challenge) > MAX_CHALLENGE_LENGTH:
        raise SignatureInvalid("hub.challenge is too long", status_code=403)
    return VerificationAnswer(status_code=200, body=challenge, content_type="text/plain")


class MetaWebhookAdapter(ChannelAdapter):
    """A channel whose webhooks Meta signs: the GET handshake answered with the channel's
    `verify_token`, every POST checked against its `app_secret`."""

    def answer_verification(self, request: WebhookRequest) -> VerificationAnswer:
        return verification_answer(self.channel.secrets.get("verify_token"), request)

    def verify(self, request: WebhookRequest) -> None:
        signature_check(self.channel.secrets.get("app_secret"), request)
