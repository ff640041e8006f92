"""Polls of one mailbox never overlap, and a mailbox's progress never goes back."""

import pytest
from django.core.cache import cache

from channels_app.imap_importing import remember_uid
from channels_app.imap_poll_lock import MailboxPollLock
from channels_app.models import MailboxState
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel_id():
    channel = ChannelFactory(kind="email", config={"address": "support@acme.test"})
    yield channel.pk
    cache.delete(f"imap-poll:{channel.pk}")


def test_only_the_poll_holding_the_lock_releases_it(channel_id):
    first, second = MailboxPollLock(channel_id), MailboxPollLock(channel_id)
    assert first.acquire()
    assert not second.acquire()

    # A poll whose lock lapsed and was taken by another must not free the other's.
    second.release()
    assert not second.acquire()

    first.release()
    assert second.acquire()
    second.release()


def test_a_running_poll_keeps_its_lock_by_renewing_it(channel_id, monkeypatch):
    lock = MailboxPollLock(channel_id)
    lock.timeout = 1
    assert lock.acquire()
    touched = []
    monkeypatch.setattr(cache, "touch", lambda key, timeout: touched.append((key, timeout)))

    lock.renew()

    assert touched == [(lock.key, 1)]
    lock.release()


def test_the_last_uid_only_moves_forward(channel_id):
    state = MailboxState.objects.create(channel_id=channel_id, folder="INBOX", last_uid=40)
    stale = MailboxState.objects.get(pk=state.pk)

    remember_uid(state, 45)
    remember_uid(stale, 41)  # an overlapping poll that started earlier

    assert MailboxState.objects.get(pk=state.pk).last_uid == 45
