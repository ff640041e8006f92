"""What crosses the boundary between channel adapters and the inbox. No Django here."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from channels_app.failure_reasons import FailureCode, FailureReason, failure_reason

DELIVER_MESSAGE_TASK = "channels_app.tasks.message_deliver"
FETCH_MEDIA_TASK = "channels_app.tasks.attachment_fetch_media"
SEND_SURVEY_TASK = "channels_app.tasks.csat_survey_send"
SEND_SURVEY_BATCH_TASK = "channels_app.tasks.csat_survey_send_batch"
FETCH_SENDER_NAME_TASK = "channels_app.tasks.sender_name_fetch"
SETTLE_STALE_SENDING_TASK = "channels_app.tasks.messages_settle_stale_sending"
# Outgoing webhooks' deliveries, queued by inbox.outgoing_webhooks.
SEND_WEBHOOK_DELIVERIES_TASK = "channels_app.tasks.webhook_deliveries_send"


@dataclass(frozen=True)
class InboundIdentity:
    kind: str
    value: str
    is_verified: bool = True
    # What the platform shows of the person with this id, where the message says: their
    # picture (Viber's avatar) and what their app can show (VK's client_info); kept on the
    # identity. Empty / None: nothing said, what is known stays.
    avatar_url: str = ""
    client_info: dict[str, object] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SenderProfile:
    """What a platform's profile API tells of a sender whose messages come without it."""

    name: str = ""
    # The person's handle on the platform (Instagram's username, VK's screen name), shown
    # with their name.
    username: str = ""


@dataclass(frozen=True)
class InboundAttachment:
    """A file that came with a message: at a public `url`, or on the platform as
    `media_id`, fetched later through the adapter's `fetch_media`."""

    filename: str
    content_type: str = "application/octet-stream"
    url: str = ""
    media_id: str = ""
    size: int = 0
    # Files that arrive inside the message itself (email parts) carry their bytes.
    content: bytes = b""
    # A file already in our storage, under this name (the website widget's uploads, saved
    # once before the message is stored: the raw event names the file, not its bytes).
    stored_name: str = ""
    # An inline image's Content-ID, which the HTML body refers to as `cid:<content_id>`.
    content_id: str = ""


class ContentItemKind:
    """What a content item is; each names one sentence the inbox words it with."""

    REACTION = "reaction"  # data: emoji
    REACTION_REMOVED = "reaction_removed"
    STICKER = "sticker"
    STORY_MENTION = "story_mention"  # data: url
    STORY_REPLY = "story_reply"  # data: url
    SHARED_POST = "shared_post"  # data: title, url
    PLATFORM_NOTICE = "platform_notice"
    UNSUPPORTED = "unsupported"  # data: type (the platform's name for it), may be empty


@dataclass(frozen=True)
class ContentItem:
    """Something a message carried that is neither the customer's own words nor a file:
    a reaction, a sticker, a story mention, a kind of message the platform would not show
    us. Kept as data (`kind` and the values the sentence needs), never as words: every
    reader sees it worded in their own language. Locations, contact cards and links that
    speak for themselves go into the text in a form without words (📍, 👤, 🔗)."""

    kind: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundMessage:
    """One customer message, as the channel delivered it, in platform-neutral terms.

    `identities` lists the channel's own id for the sender first; `recipient_address`
    is where replies to this sender go on the same channel.
    """

    external_id: str
    recipient_address: str
    identities: tuple[InboundIdentity, ...]
    sender_name: str = ""
    # The language the platform says the sender uses (Telegram's language_code), as given.
    sender_language: str = ""
    text: str = ""
    attachments: tuple[InboundAttachment, ...] = ()
    content_items: tuple[ContentItem, ...] = ()
    sent_at: datetime | None = None
    subject: str = ""
    # The id of the button or list row the customer chose, when the message is such
    # an answer (Telegram callback_query, WhatsApp interactive reply).
    button_payload: str = ""
    # The platform's id of the message of ours this one answers, where it says.
    reply_to_id: str = ""
    # Email: the whole text (quoted history and signature included) and the HTML part
    # made safe to show; `text` keeps only what the customer wrote this time.
    full_text: str = ""
    html: str = ""
    # Email threading: external ids of earlier messages this one answers, nearest first
    # (In-Reply-To, then References), and the conversation named by the per-conversation
    # reply address it was sent to.
    thread_references: tuple[str, ...] = ()
    reply_conversation_id: int | None = None
    # True where a message that answers nothing we know starts a conversation of its own
    # (email threads), instead of joining the customer's open one (chats).
    threads_by_reference: bool = False
    # True where the address is a device of the customer's (a browser) rather than the
    # customer: one person on two such addresses has a conversation on each.
    conversation_per_address: bool = False
    # True where the sender, not the platform, chose `external_id` (an email's
    # Message-ID): it names a message only together with its sender.
    external_id_per_sender: bool = False


@dataclass(frozen=True)
class InboundEdit:
    """The customer edited a message they sent earlier."""

    external_id: str
    text: str
    edited_at: datetime | None = None


@dataclass(frozen=True)
class InboundReaction:
    """The customer reacted to a message of the conversation (ours or theirs), named by
    its platform id; an empty `emoji` takes their reaction back."""

    external_id: str
    emoji: str


@dataclass(frozen=True)
class InboundDeletion:
    """The customer deleted a message they sent earlier: kept, emptied, shown as deleted."""

    external_id: str
    deleted_at: datetime | None = None


@dataclass(frozen=True)
class DeliveryStatusUpdate:
    """The platform reports on a message we sent: sent, delivered, read or failed."""

    external_id: str
    status: str
    error: "FailureReason | str" = ""
    # A failure from a bounce of mail we provably sent (its Message-ID carries our
    # signature): the only report that may fail a message already delivered.
    is_own_bounce: bool = False


@dataclass(frozen=True)
class IdentityReachability:
    """The customer blocked (or unblocked) us on this channel.

    `reported_for`: the platform id of a message we sent whose failure report says so;
    the identity counts only when it is that message's recipient."""

    kind: str
    value: str
    is_reachable: bool
    reported_for: str | None = None


@dataclass(frozen=True)
class DeliveryWatermark:
    """The platform reports by time rather than by message (Messenger): everything we sent
    to `recipient_address` on this channel up to `watermark` was delivered or read."""

    recipient_address: str
    status: str
    watermark: datetime


@dataclass(frozen=True)
class OutboundEcho:
    """A message the business sent to the customer outside Switchboard (from the platform's
    own inbox, Meta Business Suite say): kept as an outgoing message of the customer's
    conversation, and never a second copy of one of ours (same external id)."""

    external_id: str
    recipient_address: str
    text: str = ""
    attachments: tuple[InboundAttachment, ...] = ()
    content_items: tuple[ContentItem, ...] = ()
    sent_at: datetime | None = None
    # The app it was written in, shown to operators as its author ("Meta Business Suite").
    sent_from: str = ""


@dataclass(frozen=True)
class CustomerTyping:
    """The customer is writing to the business (VK's `message_typing_state`): shown live on
    their latest conversation on the channel, as the inbox shows colleagues typing; nothing
    is stored."""

    sender_address: str
    is_typing: bool = True


InboundEvent = (
    InboundMessage
    | InboundEdit
    | InboundReaction
    | InboundDeletion
    | DeliveryStatusUpdate
    | IdentityReachability
    | DeliveryWatermark
    | OutboundEcho
    | CustomerTyping
)


@dataclass(frozen=True)
class MediaContent:
    content: bytes
    content_type: str
    filename: str


@dataclass(frozen=True)
class VerificationAnswer:
    """What to answer a platform's GET handshake (WhatsApp's hub.challenge, say)."""

    status_code: int
    body: str
    content_type: str = "text/plain"


@dataclass(frozen=True)
class OutboundAttachment:
    filename: str
    content_type: str
    url: str
    size: int
    # Where the file lies in our storage, for channels that send the bytes themselves.
    storage_name: str = ""


@dataclass(frozen=True)
class DeliveryProgress:
    """How much of a reply that goes out as several platform messages (long text, files)
    was sent before a failure: the next try resumes after it instead of repeating it. The
    platform's ids of the parts sent are kept: the first names the reply, the later ones
    let a customer's reaction to any part find it."""

    parts_sent: int = 0
    first_external_id: str | None = None
    later_external_ids: tuple[str, ...] = ()

    @classmethod
    def from_stored(cls, stored: object) -> "DeliveryProgress":
        if not isinstance(stored, dict):
            return cls()
        parts_sent = stored.get("parts_sent")
        first_external_id = stored.get("first_external_id")
        later_external_ids = stored.get("later_external_ids")
        return cls(
            parts_sent=parts_sent if isinstance(parts_sent, int) and parts_sent > 0 else 0,
            first_external_id=first_external_id if isinstance(first_external_id, str) else None,
            later_external_ids=tuple(
                item for item in later_external_ids or () if isinstance(item, str) and item
            )
            if isinstance(later_external_ids, list)
            else (),
        )

    def after_part(self, external_id: str | None) -> "DeliveryProgress":
        """The progress once one more part went out under this platform id (None when the
        platform gave none)."""
        if self.first_external_id is None:
            return replace(self, parts_sent=self.parts_sent + 1, first_external_id=external_id)
        later = (*self.later_external_ids, external_id) if external_id else self.later_external_ids
        return replace(self, parts_sent=self.parts_sent + 1, later_external_ids=later)

    def result(self) -> "DeliveryResult":
        return DeliveryResult(
            external_id=self.first_external_id, later_external_ids=self.later_external_ids
        )


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int
    conversation_id: int
    recipient_address: str
    text: str
    author_name: str = ""
    attachments: tuple[OutboundAttachment, ...] = field(default_factory=tuple)
    # When the customer last wrote: platforms such as WhatsApp limit free-form replies
    # to a window after it.
    customer_last_message_at: datetime | None = None
    # Email: the conversation's subject and the external ids of its earlier messages,
    # oldest first, for In-Reply-To and References.
    subject: str = ""
    thread_references: tuple[str, ...] = ()
    html: str = ""
    # The customer's email address, for channels that copy replies there (a website
    # chat visitor who has left). Filled only for adapters that ask for it.
    customer_email: str = ""
    # The customer's own language ("" when not known), for adapters that write texts of
    # their own around the reply. Filled only for adapters that ask for it.
    customer_language: str = ""
    # What earlier tries already sent of this reply.
    already_sent: DeliveryProgress = field(default_factory=DeliveryProgress)
    # When the message was written: with message_id it names this message even across
    # installations and restored backups (VK's random_id is derived from both).
    created_at: datetime | None = None
    # Called by adapters that send a reply as several platform messages, before each
    # part after the first, with what went out so far: it is kept, so that no later try
    # repeats a part even if this one is cut off mid-way.
    record_progress: Callable[[DeliveryProgress], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class OutboundSurvey:
    """A survey to put to the customer in the channel's own way.

    `rating_labels` holds every value of the kind's scale (CSAT 1-5, CES 1-7, NPS 0-10)
    with its name; `button_payloads[rating]` is what a button for that rating should carry
    back (as InboundMessage.button_payload); `url` is the login-free survey page.
    """

    survey_id: int
    conversation_id: int
    recipient_address: str
    question: str
    url: str
    rating_labels: dict[int, str]
    button_payloads: dict[int, str]
    customer_last_message_at: datetime | None = None
    # The language the question and labels are in; what else the adapter writes follows.
    language: str = "en"
    kind: str = "csat"

    @property
    def lowest(self) -> int:
        return min(self.rating_labels)

    @property
    def highest(self) -> int:
        return max(self.rating_labels)


@dataclass(frozen=True)
class DeliveryResult:
    external_id: str | None = None
    # A reply sent as several platform messages: the ids of those after the first.
    later_external_ids: tuple[str, ...] = ()


class WebhookRejected(Exception):
    """The request is refused; nothing of it is stored."""

    status_code = 400

    def __init__(self, detail: str, *, status_code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code


class SignatureInvalid(WebhookRejected):
    status_code = 401


class PayloadMalformed(WebhookRejected):
    status_code = 400


class DeliveryFailed(Exception):
    """Sending failed. Retryable failures are tried again with backoff; the others are final.

    `progress` says which parts of a several-part reply went out before the failure;
    `is_recipient_unreachable` that the platform says the customer cannot be written to
    on this channel any more (blocked us, deleted the account, did not allow messages)
    until they write again; `is_credential_rejected` that the platform refused the
    channel's stored token, which the channel then shows its admins until it is replaced;
    `may_have_arrived` that the platform had the whole request when its answer was lost
    (said by transports other than HTTP, whose errors tell it themselves). The reason is a
    FailureReason, or text where no code fits (kept as its detail)."""

    def __init__(
        self,
        reason: str | FailureReason,
        *,
        is_retryable: bool,
        retry_after: float | None = None,
        progress: DeliveryProgress | None = None,
        is_recipient_unreachable: bool = False,
        is_credential_rejected: bool = False,
        may_have_arrived: bool = False,
    ):
        super().__init__(str(reason))
        # `failure` is what the message keeps and operators read, worded for each;
        # `reason` the same as one line for logs, admins' notes and the command line.
        self.failure = failure_reason(reason)
        self.reason = str(reason)
        self.is_retryable = is_retryable
        self.retry_after = retry_after
        self.progress = progress
        self.is_recipient_unreachable = is_recipient_unreachable
        self.is_credential_rejected = is_credential_rejected
        self.may_have_arrived = may_have_arrived


def partly_sent(failure: DeliveryFailed, *, sent: int, parts: int) -> FailureReason:
    """A reply that went out as several platform messages stopped after `sent` of them."""
    return FailureReason.of(
        FailureCode.PARTLY_SENT, sent=sent, parts=parts, then=failure.failure.stored()
    )


class SurveyNotAllowed(Exception):
    """The platform does not take this survey now (outside its messaging window, with no
    approved template to send instead): the survey is skipped with the reason, not failed,
    and nothing went out. `reason_code` is one of the codes below, kept with the survey
    for reports to count."""

    WINDOW_CLOSED = "window_closed"
    NO_TEMPLATE = "no_template"

    def __init__(self, reason: "str | FailureReason", *, reason_code: str) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.reason_code = reason_code


# Mail: the SMTP envelope's sender (MAIL FROM; "<>" for bounces), given by our SMTP server
# or by a mail provider posting to the signed email webhook.
ENVELOPE_SENDER_HEADER = "x-switchboard-envelope-from"


@dataclass(frozen=True)
class WebhookRequest:
    """A platform's HTTP request, as the adapter needs it: raw body and lower-cased headers."""

    body: bytes
    headers: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
