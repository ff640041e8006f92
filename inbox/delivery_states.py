"""Which way a reply's delivery status may move: the one rule every write follows.

queued → sending → sent → delivered → read, forward only, so a replayed or late report
(a platform's status webhook sent again, a `sent` arriving after `read`) changes nothing.
`failed` and `unknown` end a send that was under way (queued or sending); a platform may
still report `failed` for a message it accepted (`sent`), but once the customer's side
confirmed it (delivered or read) only a bounce proven to be of our own mail says otherwise.
Leaving `failed` or `unknown` is the operator's decision (a resend), never a report's.
"""

from inbox.models import MessageStatus

FORWARD_ORDER = (
    MessageStatus.QUEUED,
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.READ,
)
# What the operator may send again: nothing is under way for them.
RESENDABLE = (MessageStatus.FAILED, MessageStatus.UNKNOWN)
# Waiting to go out, or going out: a platform's report (a status, a watermark) is about an
# earlier send of it (the operator's resend keeps its old platform id) and changes nothing.
AWAITING_SEND = (MessageStatus.QUEUED, MessageStatus.SENDING)


def delivery_status_may_move(
    *,
    current: str,
    new: str,
    is_operator_resend: bool = False,
    is_own_bounce: bool = False,
) -> bool:
    """Whether a message whose status is `current` may become `new`.

    `is_operator_resend`: the operator asked to send a failed or unknown message again.
    `is_own_bounce`: a `failed` comes from a bounce of a mail we provably sent (its
    Message-ID carries our signature).
    """
    if current == new:
        return False
    if new == MessageStatus.QUEUED:
        # Back to the queue: a scheduled retry or a cut-off send the platform will not
        # repeat (it keeps a key), or the operator's resend.
        if is_operator_resend:
            return current in RESENDABLE
        return current == MessageStatus.SENDING
    if new == MessageStatus.SENDING:
        return current == MessageStatus.QUEUED
    if new == MessageStatus.UNKNOWN:
        return current in (MessageStatus.QUEUED, MessageStatus.SENDING)
    if new == MessageStatus.FAILED:
        if current in (MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT):
            return True
        return is_own_bounce and current == MessageStatus.DELIVERED
    if new in FORWARD_ORDER:
        # Proof that it went out settles an unknown send as well.
        if current == MessageStatus.UNKNOWN:
            return True
        return current in FORWARD_ORDER and FORWARD_ORDER.index(new) > FORWARD_ORDER.index(current)
    return False


def statuses_that_may_become(new: str, *, is_own_bounce: bool = False) -> list[str]:
    """Every status a message may be in for `new` to apply: a filter for bulk updates."""
    return [
        status
        for status in MessageStatus.values
        if delivery_status_may_move(current=status, new=new, is_own_bounce=is_own_bounce)
    ]
