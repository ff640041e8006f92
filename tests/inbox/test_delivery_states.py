"""The one rule for a reply's delivery status: forward only; failed and unknown end a send
under way; leaving them is the operator's decision."""

import pytest

from inbox.delivery_states import delivery_status_may_move
from inbox.models import MessageStatus as S

ALLOWED = {
    (S.QUEUED, S.SENDING),
    (S.SENDING, S.QUEUED),  # a scheduled retry; a cut-off send on a platform with a key
    (S.QUEUED, S.SENT),
    (S.SENDING, S.SENT),
    (S.SENT, S.DELIVERED),
    (S.SENT, S.READ),
    (S.DELIVERED, S.READ),
    (S.QUEUED, S.DELIVERED),
    (S.QUEUED, S.READ),
    (S.SENDING, S.DELIVERED),
    (S.SENDING, S.READ),
    (S.QUEUED, S.FAILED),
    (S.SENDING, S.FAILED),
    (S.SENT, S.FAILED),  # the platform accepted it, then reported a failure
    (S.QUEUED, S.UNKNOWN),
    (S.SENDING, S.UNKNOWN),
    # Proof that an unknown send went out.
    (S.UNKNOWN, S.SENT),
    (S.UNKNOWN, S.DELIVERED),
    (S.UNKNOWN, S.READ),
}
DELIVERY = [S.QUEUED, S.SENDING, S.SENT, S.DELIVERED, S.READ, S.FAILED, S.UNKNOWN]


@pytest.mark.parametrize("current", DELIVERY)
@pytest.mark.parametrize("new", DELIVERY)
def test_only_the_listed_moves_are_allowed(current, new):
    assert delivery_status_may_move(current=current, new=new) == ((current, new) in ALLOWED)


@pytest.mark.parametrize("current", [S.FAILED, S.UNKNOWN])
def test_the_operator_may_send_a_failed_or_unknown_reply_again(current):
    assert delivery_status_may_move(current=current, new=S.QUEUED, is_operator_resend=True)


@pytest.mark.parametrize("current", [S.SENT, S.DELIVERED, S.READ, S.SENDING])
def test_the_operator_cannot_resend_what_went_out_or_is_going(current):
    assert not delivery_status_may_move(current=current, new=S.QUEUED, is_operator_resend=True)


def test_only_a_bounce_of_our_own_mail_fails_a_delivered_one():
    assert delivery_status_may_move(current=S.DELIVERED, new=S.FAILED, is_own_bounce=True)
    assert not delivery_status_may_move(current=S.DELIVERED, new=S.FAILED)
    assert not delivery_status_may_move(current=S.READ, new=S.FAILED, is_own_bounce=True)
