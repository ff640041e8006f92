"""The interface every channel kind implements: verify, parse, send."""

import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.conf import settings

from channels_app.contracts import (
    DeliveryFailed,
    DeliveryProgress,
    DeliveryResult,
    InboundEvent,
    MediaContent,
    OutboundMessage,
    OutboundSurvey,
    SenderProfile,
    SignatureInvalid,
    VerificationAnswer,
    WebhookRejected,
    WebhookRequest,
    partly_sent,
)
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.outbound_guard import outbound_url_refusal
from customers.languages import supported_language

if TYPE_CHECKING:
    from channels_app.models import Channel


PartT = TypeVar("PartT")

# Settings every kind accepts: `language`, what its customers read unless they say.
COMMON_CONFIG_KEYS = ("language",)
# Settings naming a host we call: refused when saved if it could never be reached (every
# connection is checked again, channels_app.outbound_guard).
OUTBOUND_URL_CONFIG_KEYS = ("callback_url", "api_base_url")


class ConfigInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


class ChannelAdapter(ABC):
    """Knows one platform: turns its requests into InboundMessages and sends OutboundMessages.

    Adapters know nothing of conversations; the inbox services do the rest.
    """

    kind: ClassVar[str]
    # Config keys shown back through the API, and the write-only ones kept encrypted.
    public_config_keys: ClassVar[tuple[str, ...]] = ()
    secret_config_keys: ClassVar[tuple[str, ...]] = ()
    required_config_keys: ClassVar[tuple[str, ...]] = ()
    # Whether send() needs the external ids of the conversation's earlier messages
    # (email's In-Reply-To/References); it costs a query per delivery.
    uses_thread_references: ClassVar[bool] = False
    # Whether send() needs the customer's email address (OutboundMessage.customer_email).
    uses_customer_email: ClassVar[bool] = False
    # Whether send() needs the customer's language (OutboundMessage.customer_language).
    uses_customer_language: ClassVar[bool] = False
    # Whether send_survey() may run on several threads at once (plain HTTP calls do);
    # the others send a batch of surveys one at a time.
    sends_surveys_in_parallel: ClassVar[bool] = False
    # Whether the platform drops a survey sent again after its answer was lost (a key of
    # ours it keeps with the message): only then is a survey whose request may have
    # arrived tried again rather than left alone as `unknown`.
    survey_resends_are_deduplicated: ClassVar[bool] = False
    # The platform's cap on messages a second from one channel, for survey batches
    # (kept across all worker processes); None where the platform sets none.
    survey_sends_per_second: ClassVar[float | None] = None
    # Whether the batched fast path may store this kind's single-message webhooks; kinds
    # whose requests carry what only the regular path handles (echoes, watermarks), or
    # that need an answer of their own (accepted_answer), say no.
    takes_batched_path: ClassVar[bool] = True
    # Whether the reply window counts from the time the platform gives the customer's last
    # message (never later than its arrival) rather than from its arrival; a query a send.
    windows_from_platform_time: ClassVar[bool] = False
    # Whether the platform's messages come without the sender's name, which
    # fetch_sender_profile then asks for.
    fetches_sender_names: ClassVar[bool] = False
    # What the platform must get back for a request we accepted, where it is not our JSON
    # (VK takes anything but a plain `ok` for a failure and sends the event again). The
    # batched fast path answers in JSON only: a kind that sets one sets
    # takes_batched_path = False too.
    accepted_answer: ClassVar[VerificationAnswer | None] = None
    # Whether the platform drops a second send of the same reply, by a key we give it that
    # stays the same across tries (email's Message-ID, VK's random_id, our message id for
    # the API channel's receiver): a send cut off mid-way is then simply tried again;
    # elsewhere it becomes `unknown` and the operator decides.
    deduplicates_resends: ClassVar[bool] = False

    def __init__(self, channel: "Channel") -> None:
        self.channel = channel

    @classmethod
    def split_config(
        cls, config: dict[str, Any], *, existing_secrets: dict[str, str] | None = None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Validate a config given through the API; returns (public part, secret part)."""
        public_keys = (*cls.public_config_keys, *COMMON_CONFIG_KEYS)
        unknown = set(config) - set(public_keys) - set(cls.secret_config_keys)
        errors = {key: "unknown setting" for key in sorted(unknown)}
        public = {key: config[key] for key in public_keys if key in config}
        if "language" in public:
            if config["language"] in ("", None):
                del public["language"]
            elif language := supported_language(config["language"]):
                public["language"] = language
            else:
                codes = ", ".join(code for code, _ in settings.LANGUAGES)
                errors["language"] = f"one of {codes}, or empty to follow LANGUAGE_CODE"
        secrets = dict(existing_secrets or {})
        for key in cls.secret_config_keys:
            if key in config:
                if not isinstance(config[key], str):
                    errors[key] = "must be a string"
                else:
                    secrets[key] = config[key]
        for key in cls.required_config_keys:
            if not (public.get(key) or secrets.get(key)):
                errors[key] = "required"
        errors.update(cls.check_config(public))
        errors = {**cls.extra_config_errors(config), **errors}
        for key in OUTBOUND_URL_CONFIG_KEYS:
            url = public.get(key)
            refusal = outbound_url_refusal(url) if isinstance(url, str) and url else None
            if refusal and key not in errors:
                errors[key] = refusal
        if errors:
            raise ConfigInvalid(errors)
        return public, secrets

    @classmethod
    def check_config(cls, public: dict[str, Any]) -> dict[str, str]:
        """Kind-specific checks of the public settings; returns errors by key."""
        return {}

    @classmethod
    def extra_config_errors(cls, config: dict[str, Any]) -> dict[str, str]:
        """Kind-specific checks of the config as given, secrets included (a token's
        format, say); returns errors by key. The general checks win on a shared key."""
        return {}

    @abstractmethod
    def verify(self, request: WebhookRequest) -> None:
        """Raise SignatureInvalid unless the request provably comes from the platform."""

    @abstractmethod
    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        """Normalize a verified request into messages, edits, status updates...; raise
        PayloadMalformed if it cannot be read. Kinds of update we do not handle give []."""

    @abstractmethod
    def send(self, outbound: OutboundMessage) -> DeliveryResult:
        """Deliver one message; raise DeliveryFailed (retryable or not) when it does not go."""

    def send_survey(self, survey: OutboundSurvey) -> DeliveryResult:
        """Put a CSAT survey to the customer. By default: the question and the survey page's
        link as a text message; channels with buttons override it with a native form."""
        text = f"{survey.question}\n{survey.url}"
        return self.send(
            OutboundMessage(
                message_id=0,
                conversation_id=survey.conversation_id,
                recipient_address=survey.recipient_address,
                text=text,
                customer_last_message_at=survey.customer_last_message_at,
            )
        )

    def on_events_stored(self, events: list[InboundEvent]) -> None:
        """Called after the events of one request were committed: acknowledge them to the
        platform where it expects that (Telegram's answerCallbackQuery, say). Keep it fast
        and never raise; enqueue a task for anything slow."""
        return None

    def answer_posted_handshake(self, request: WebhookRequest) -> VerificationAnswer | None:
        """Answer a POSTed request that wants an answer of its own and stores nothing (VK's
        `confirmation`, Viber's `conversation_started` greeted with a welcome message);
        None for every other request, which takes the regular way."""
        return None

    def answer_verification(self, request: WebhookRequest) -> VerificationAnswer:
        """Answer a GET handshake on the webhook URL; most platforms have none."""
        raise WebhookRejected("use POST", status_code=405)

    def fetch_sender_name(self, address: str) -> str:
        """The name the platform shows for a customer whose messages come without one
        (Meta's profile API, VK's users.get); "" where there is nothing to ask. Raises
        DeliveryFailed."""
        return ""

    def fetch_sender_profile(self, address: str) -> SenderProfile:
        """What the platform shows of a customer whose messages come without it: their name
        (fetch_sender_name) and, where the platform has one, their handle. Raises
        DeliveryFailed."""
        return SenderProfile(name=self.fetch_sender_name(address))

    def fetch_media(self, media_id: str) -> MediaContent:
        """Download a file the platform holds for us (see InboundAttachment.media_id)."""
        raise DeliveryFailed(f"{self.kind} channels have no media to fetch", is_retryable=False)


def send_in_parts(
    parts: Sequence[PartT],
    send_part: Callable[[PartT], str | None],
    *,
    already_sent: DeliveryProgress,
    record_progress: Callable[[DeliveryProgress], None] | None = None,
) -> DeliveryResult:
    """Send a reply that goes out as several platform messages, resuming after the parts
    an earlier try sent and recording, before each next part, how far it got; a failure
    after the first part says how far it got."""
    progress = already_sent
    for index in range(already_sent.parts_sent, len(parts)):
        if index > already_sent.parts_sent and record_progress is not None:
            record_progress(progress)
        try:
            message_id = send_part(parts[index])
        except DeliveryFailed as failure:
            if index == 0:
                raise
            raise DeliveryFailed(
                partly_sent(failure, sent=index, parts=len(parts)),
                is_retryable=failure.is_retryable,
                retry_after=failure.retry_after,
                progress=progress,
                is_recipient_unreachable=failure.is_recipient_unreachable,
            ) from failure
        progress = progress.after_part(message_id)
    return progress.result()


def required_secret(channel: "Channel", key: str) -> str:
    """The channel's secret `key` (its token for the platform's API); without it nothing
    can be sent, and trying again will not change that."""
    value = channel.secrets.get(key)
    if not value:
        raise DeliveryFailed(
            FailureReason.of(FailureCode.SETTING_MISSING, setting=key), is_retryable=False
        )
    return value


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


SWITCHBOARD_SIGNATURE_HEADER = "x-switchboard-signature"


def switchboard_signature(secret: str, body: bytes) -> str:
    """The X-Switchboard-Signature value we sign a body with (the API channel's callbacks,
    outgoing webhooks): `sha256=<hex HMAC-SHA256>`."""
    return f"sha256={hmac_sha256_hex(secret, body)}"


def check_switchboard_signature(channel, request: WebhookRequest) -> None:
    """Our own webhook signing, shared by the API and email channels:
    `X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the body with the channel's secret>`."""
    check_sha256_signature(
        header_value=request.headers.get(SWITCHBOARD_SIGNATURE_HEADER),
        secret=channel.secrets.get("secret"),
        body=request.body,
    )


def check_sha256_signature(*, header_value: str | None, secret: str | None, body: bytes) -> None:
    """Compare a `sha256=<hex>` header with our HMAC of the raw body, in constant time."""
    if not secret:
        raise SignatureInvalid("the channel has no secret configured", status_code=403)
    if not header_value:
        raise SignatureInvalid("signature header missing")
    scheme, _, received = header_value.partition("=")
    expected = hmac_sha256_hex(secret, body)
    if scheme.strip().lower() != "sha256" or not hmac.compare_digest(
        received.strip().lower().encode(), expected.encode()
    ):
        raise SignatureInvalid("signature does not match")
