"""Why a delivery failed, as data that crosses from the channel adapters to the inbox
(carried by channels_app.contracts.DeliveryFailed). No Django here."""

from dataclasses import dataclass, field


class FailureCode:
    """Why a delivery failed; each names one sentence the inbox words it with, in the
    reader's language (inbox.delivery_failures). The values a sentence needs go beside
    the code; `detail` is always the platform's own text, shown as it came."""

    WINDOW_CLOSED = "window_closed"  # platform; window (hours), where it is not 24
    NOT_WRITTEN_YET = "customer_not_written_yet"  # platform
    NOT_DELIVERED = "not_delivered"  # platform, detail: its report on a message it took
    PLATFORM_REFUSED = "platform_refused"  # platform, status (HTTP or the API's code), detail
    PLATFORM_UNREACHABLE = "platform_unreachable"  # platform, detail
    RATE_LIMITED = "rate_limited"  # platform, detail
    RECIPIENT_UNREACHABLE = "recipient_unreachable"  # platform, detail
    SETTING_MISSING = "setting_missing"  # setting (the channel's key)
    SETTING_INVALID = "setting_invalid"  # setting
    NO_RECIPIENT = "no_recipient"  # platform
    CREDENTIAL_REJECTED = "credential_rejected"  # platform, setting, detail
    SECRETS_UNREADABLE = "secrets_unreadable"
    UNREADABLE_ANSWER = "unreadable_answer"  # platform
    TOO_LONG = "too_long"  # platform, limit (characters)
    NOTHING_TO_SEND = "nothing_to_send"
    ATTACHMENT_WITHOUT_LINK = "attachment_without_link"  # filename
    ATTACHMENT_MISSING = "attachment_missing"  # filename
    ATTACHMENT_TYPE_REFUSED = "attachment_type_refused"  # filename, types
    ATTACHMENT_TOO_LARGE = "attachment_too_large"  # filename, limit (MB)
    ATTACHMENT_UNREADABLE = "attachment_unreadable"  # filename
    FILE_REFUSED = "file_refused"  # platform, filename, status (HTTP), detail
    ADDRESS_REFUSED = "address_refused"  # address
    BOUNCED = "bounced"  # detail
    MAIL_REFUSED = "mail_refused"  # status (the SMTP code), detail
    MAIL_SERVER_UNREACHABLE = "mail_server_unreachable"  # detail
    MAIL_NOT_COMPOSABLE = "mail_not_composable"
    MAIL_NOT_SENT = "mail_not_sent"
    WIDGET_UNREACHABLE = "widget_unreachable"
    PARTLY_SENT = "partly_sent"  # sent, parts, then (the reason the rest did not go)
    OUTCOME_UNKNOWN = "outcome_unknown"  # then
    RETRYING = "retrying"  # attempt, then
    # A reason no sentence of ours words: `detail` as it was given.
    OTHER = "other"


@dataclass(frozen=True)
class FailureReason:
    """Why a delivery failed, as data: a FailureCode and the values its sentence needs
    (text or numbers; `then` a nested reason, stored). Kept so, never as words, like
    content items: every reader sees it worded in their own language."""

    code: str
    data: dict[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, code: str, **data: object) -> "FailureReason":
        return cls(code, data)

    def stored(self) -> dict[str, object]:
        """As `Message.error` keeps it: `{"code": ..., <values>}`."""
        return {"code": self.code, **self.data}

    def __str__(self) -> str:
        # For logs and the command line: the code and its values, unworded.
        values = ", ".join(f"{key}={value!r}" for key, value in self.data.items())
        return f"{self.code} ({values})" if values else self.code


def failure_reason(reason: "str | FailureReason") -> FailureReason:
    """A reason as data; text from a sender that gives no code is kept as its detail."""
    if isinstance(reason, FailureReason):
        return reason
    return FailureReason(FailureCode.OTHER, {"detail": reason})
