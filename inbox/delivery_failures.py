"""Why a reply was not delivered (`Message.error`), worded in the active language: the
reader's, as each page, API answer and operator socket activates it. The stored reason is
data (`{"code", <values>}`, see channels_app.failure_reasons), never our words, so
an operator reading Polish sees Polish whatever language the installation speaks. What a
platform said itself (`detail`) is shown as it came: it is not ours to translate.

Every reason is one whole sentence of the catalogue; a code from a newer version is shown
by its name and detail rather than dropped.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, ngettext

from channels_app.failure_reasons import FailureCode, FailureReason, failure_reason

Values = Mapping[str, Any]


def _with_detail(sentence: str, detail: Any) -> str:
    """A sentence of ours and, where the platform said something, its own words."""
    if not detail:
        return sentence
    return gettext("%(reason)s The platform said: %(detail)s") % {
        "reason": sentence,
        "detail": detail,
    }


def _window_closed(values: Values) -> str:
    hours = _number(values.get("hours")) or 24
    platform = values.get("platform", "")
    if hours > 24 and hours % 24 == 0:
        days = hours // 24
        sentence = ngettext(
            "Outside %(platform)s's messaging window: the customer last wrote more than "
            "%(count)s day ago, and the reply can no longer be sent on this channel.",
            "Outside %(platform)s's messaging window: the customer last wrote more than "
            "%(count)s days ago, and the reply can no longer be sent on this channel.",
            days,
        ) % {"platform": platform, "count": days}
    else:
        sentence = ngettext(
            "Outside %(platform)s's messaging window: the customer last wrote more than "
            "%(count)s hour ago, and the reply can no longer be sent on this channel.",
            "Outside %(platform)s's messaging window: the customer last wrote more than "
            "%(count)s hours ago, and the reply can no longer be sent on this channel.",
            hours,
        ) % {"platform": platform, "count": hours}
    if values.get("template"):
        return gettext("%(reason)s Send an approved template instead.") % {"reason": sentence}
    return _with_detail(sentence, values.get("detail"))


def _not_written_yet(values: Values) -> str:
    return gettext(
        "The customer has not written on %(platform)s yet: %(platform)s takes replies only."
    ) % {"platform": values.get("platform", "")}


def _platform_refused(values: Values) -> str:
    # No platform: a server of the channel's owner (an API channel's callback URL).
    platform, status = values.get("platform", ""), values.get("status")
    if platform and status:
        sentence = gettext("%(platform)s did not accept the message (HTTP %(status)s).")
    elif platform:
        sentence = gettext("%(platform)s did not accept the message.")
    elif status:
        sentence = gettext("The callback URL did not accept the message (HTTP %(status)s).")
    else:
        sentence = gettext("The callback URL did not accept the message.")
    sentence %= {"platform": platform, "status": status}
    return _with_detail(sentence, values.get("detail"))


def _platform_unreachable(values: Values) -> str:
    platform = values.get("platform", "")
    if platform:
        sentence = gettext("%(platform)s was unreachable.") % {"platform": platform}
    else:
        sentence = gettext("The callback URL was unreachable.")
    return _with_detail(sentence, values.get("detail"))


def _rate_limited(values: Values) -> str:
    platform = values.get("platform", "")
    if platform:
        sentence = gettext("%(platform)s takes no more messages for now.") % {"platform": platform}
    else:
        sentence = gettext("The callback URL takes no more messages for now.")
    return _with_detail(sentence, values.get("detail"))


def _recipient_unreachable(values: Values) -> str:
    sentence = gettext(
        "%(platform)s says this person cannot be reached (they blocked us, deleted their "
        "account or do not accept messages) until they write again."
    ) % {"platform": values.get("platform", "")}
    return _with_detail(sentence, values.get("detail"))


def _not_delivered(values: Values) -> str:
    sentence = gettext("%(platform)s could not deliver the message.") % {
        "platform": values.get("platform", "")
    }
    return _with_detail(sentence, values.get("detail"))


def _setting_missing(values: Values) -> str:
    return gettext("The channel has no %(setting)s configured.") % {
        "setting": values.get("setting", "")
    }


def _setting_invalid(values: Values) -> str:
    return gettext(
        "The channel's %(setting)s is not valid: correct it in the channel's settings."
    ) % {"setting": values.get("setting", "")}


def _no_recipient(values: Values) -> str:
    return gettext(
        "The conversation has no %(platform)s user to write to: the customer has to write "
        "on %(platform)s first."
    ) % {"platform": values.get("platform", "")}


def _unreadable_answer(values: Values) -> str:
    return gettext("%(platform)s gave an answer that could not be read.") % {
        "platform": values.get("platform", "")
    }


def _credential_rejected(values: Values) -> str:
    sentence = gettext(
        "%(platform)s refused the channel's %(setting)s: replace it in the channel's settings."
    ) % {"platform": values.get("platform", ""), "setting": values.get("setting", "")}
    return _with_detail(sentence, values.get("detail"))


def _secrets_unreadable(values: Values) -> str:
    return gettext(
        "The channel's secrets cannot be decrypted with this installation's keys: an "
        "administrator has to enter them again."
    )


def _too_long(values: Values) -> str:
    limit = _number(values.get("limit")) or 0
    return ngettext(
        "The reply is longer than %(platform)s's limit of %(count)s character.",
        "The reply is longer than %(platform)s's limit of %(count)s characters.",
        limit,
    ) % {"platform": values.get("platform", ""), "count": limit}


def _nothing_to_send(values: Values) -> str:
    return gettext("The reply has neither text nor attachments.")


def _attachment_without_link(values: Values) -> str:
    return gettext("The file %(filename)s has no public link the platform can fetch.") % {
        "filename": values.get("filename", "")
    }


def _attachment_missing(values: Values) -> str:
    return gettext("The file %(filename)s is no longer in storage.") % {
        "filename": values.get("filename", "")
    }


def _attachment_type_refused(values: Values) -> str:
    return gettext(
        "The file %(filename)s cannot be sent: this channel sends only these kinds of files: "
        "%(types)s."
    ) % {
        "filename": values.get("filename", ""),
        "types": values.get("types", ""),
    }


def _attachment_too_large(values: Values) -> str:
    return gettext("The file %(filename)s is over %(limit)s MB.") % {
        "filename": values.get("filename", ""),
        "limit": values.get("limit", ""),
    }


def _attachment_unreadable(values: Values) -> str:
    return gettext("The file %(filename)s could not be read from storage.") % {
        "filename": values.get("filename", "")
    }


def _file_refused(values: Values) -> str:
    names = {"platform": values.get("platform", ""), "filename": values.get("filename", "")}
    if values.get("status"):
        sentence = gettext(
            "%(platform)s did not accept the file %(filename)s (HTTP %(status)s)."
        ) % {**names, "status": values["status"]}
    else:
        sentence = gettext("%(platform)s did not accept the file %(filename)s.") % names
    return _with_detail(sentence, values.get("detail"))


def _address_refused(values: Values) -> str:
    return gettext(
        "Refused to connect to %(address)s: not a public address "
        "(OUTBOUND_ALLOWED_NETWORKS can allow it)."
    ) % {"address": values.get("address", "")}


def _bounced(values: Values) -> str:
    return _with_detail(gettext("The mail bounced."), values.get("detail"))


def _mail_refused(values: Values) -> str:
    sentence = gettext("The mail server refused the mail (SMTP %(status)s).") % {
        "status": values.get("status", "")
    }
    return _with_detail(sentence, values.get("detail"))


def _mail_server_unreachable(values: Values) -> str:
    return _with_detail(gettext("The mail server could not be reached."), values.get("detail"))


def _mail_not_composable(values: Values) -> str:
    return gettext("The mail could not be written: an address or a header in it is not valid.")


def _mail_not_sent(values: Values) -> str:
    return gettext("The mail server took nothing to send.")


def _widget_unreachable(values: Values) -> str:
    return gettext("The website chat's live connection could not be reached.")


def _partly_sent(values: Values) -> str:
    parts = _number(values.get("parts")) or 0
    return ngettext(
        "Sent %(sent)s of %(count)s part, then: %(reason)s",
        "Sent %(sent)s of %(count)s parts, then: %(reason)s",
        parts,
    ) % {"sent": values.get("sent", 0), "count": parts, "reason": failure_text(values.get("then"))}


def _outcome_unknown(values: Values) -> str:
    return gettext(
        "No answer came, though the platform may have the reply; send it again only if the "
        "customer did not get it. %(reason)s"
    ) % {"reason": failure_text(values.get("then"))}


def _retrying(values: Values) -> str:
    return gettext("Attempt %(attempt)s failed, retrying: %(reason)s") % {
        "attempt": values.get("attempt", ""),
        "reason": failure_text(values.get("then")),
    }


def _other(values: Values) -> str:
    return str(values.get("detail", ""))


WORDINGS: dict[str, Callable[[Values], str]] = {
    FailureCode.WINDOW_CLOSED: _window_closed,
    FailureCode.NOT_WRITTEN_YET: _not_written_yet,
    FailureCode.PLATFORM_REFUSED: _platform_refused,
    FailureCode.PLATFORM_UNREACHABLE: _platform_unreachable,
    FailureCode.RATE_LIMITED: _rate_limited,
    FailureCode.RECIPIENT_UNREACHABLE: _recipient_unreachable,
    FailureCode.NOT_DELIVERED: _not_delivered,
    FailureCode.SETTING_MISSING: _setting_missing,
    FailureCode.SETTING_INVALID: _setting_invalid,
    FailureCode.NO_RECIPIENT: _no_recipient,
    FailureCode.UNREADABLE_ANSWER: _unreadable_answer,
    FailureCode.CREDENTIAL_REJECTED: _credential_rejected,
    FailureCode.SECRETS_UNREADABLE: _secrets_unreadable,
    FailureCode.TOO_LONG: _too_long,
    FailureCode.NOTHING_TO_SEND: _nothing_to_send,
    FailureCode.ATTACHMENT_WITHOUT_LINK: _attachment_without_link,
    FailureCode.ATTACHMENT_MISSING: _attachment_missing,
    FailureCode.ATTACHMENT_TYPE_REFUSED: _attachment_type_refused,
    FailureCode.ATTACHMENT_TOO_LARGE: _attachment_too_large,
    FailureCode.ATTACHMENT_UNREADABLE: _attachment_unreadable,
    FailureCode.FILE_REFUSED: _file_refused,
    FailureCode.ADDRESS_REFUSED: _address_refused,
    FailureCode.BOUNCED: _bounced,
    FailureCode.MAIL_REFUSED: _mail_refused,
    FailureCode.MAIL_SERVER_UNREACHABLE: _mail_server_unreachable,
    FailureCode.MAIL_NOT_COMPOSABLE: _mail_not_composable,
    FailureCode.MAIL_NOT_SENT: _mail_not_sent,
    FailureCode.WIDGET_UNREACHABLE: _widget_unreachable,
    FailureCode.PARTLY_SENT: _partly_sent,
    FailureCode.OUTCOME_UNKNOWN: _outcome_unknown,
    FailureCode.RETRYING: _retrying,
    FailureCode.OTHER: _other,
}


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def failure_stored(reason: "str | FailureReason | Mapping[str, Any] | None") -> dict[str, Any]:
    """A reason as `Message.error` keeps it; {} for none. Text (from code that gives no
    code) is kept as its detail."""
    if not reason:
        return {}
    if isinstance(reason, Mapping):
        return dict(reason)
    return failure_reason(reason).stored()


def failure_code(stored: Any) -> str:
    """The stored reason's code, "" for none."""
    if isinstance(stored, Mapping) and isinstance(stored.get("code"), str):
        return stored["code"]
    return FailureCode.OTHER if isinstance(stored, str) and stored else ""


def failure_text(stored: Any) -> str:
    """The stored reason as one text in the active language, "" for none."""
    if isinstance(stored, str):
        return stored
    if not isinstance(stored, Mapping) or not stored:
        return ""
    code = failure_code(stored)
    wording = WORDINGS.get(code)
    if wording is None:
        detail = stored.get("detail")
        return f"[{code}] {detail}" if detail else f"[{code}]"
    return wording(stored)


def failure_in_english(reason: "str | FailureReason") -> str:
    """A reason as one English text, for what keeps text rather than a reason: a file's
    download error, a survey's send note, a channel's note to its admins, the command
    line."""
    with translation.override("en"):
        return failure_text(failure_stored(reason))
