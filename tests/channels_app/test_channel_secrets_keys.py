"""Channel secrets have keys of their own, rotated with a command; secrets that no key
opens are an error an admin sees, never a channel that silently has none."""

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from channels_app.models import Channel
from channels_app.services import message_deliver
from inbox.models import MessageStatus
from inbox.services import message_reply
from tests.factories import ChannelFactory, ConversationFactory
from tests.failure_reasons import reason_text

pytestmark = pytest.mark.django_db

OLD_KEY = "old-channel-secrets-key-0123456789abcdef"
NEW_KEY = "new-channel-secrets-key-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


def reloaded(channel: Channel) -> Channel:
    return Channel.objects.get(pk=channel.pk)


def test_a_new_first_key_reads_old_secrets_and_the_command_moves_them_to_it(settings):
    settings.CHANNEL_SECRETS_KEYS = [OLD_KEY]
    channel = ChannelFactory(secret="s3cret")
    settings.CHANNEL_SECRETS_KEYS = [NEW_KEY, OLD_KEY]

    assert reloaded(channel).secrets == {"secret": "s3cret"}
    call_command("channel_secrets_rotate", stdout=io.StringIO())

    settings.CHANNEL_SECRETS_KEYS = [NEW_KEY]
    assert reloaded(channel).secrets == {"secret": "s3cret"}
    assert reloaded(channel).secrets_error == ""


def test_the_command_names_channels_no_key_opens_and_leaves_them_as_they_were(settings):
    settings.CHANNEL_SECRETS_KEYS = [OLD_KEY]
    lost = ChannelFactory(name="Lost key", secret="s3cret")
    stored = reloaded(lost).secrets_encrypted
    settings.CHANNEL_SECRETS_KEYS = [NEW_KEY]

    with pytest.raises(CommandError, match="Lost key"):
        call_command("channel_secrets_rotate", stdout=io.StringIO())

    assert reloaded(lost).secrets_encrypted == stored


@pytest.fixture
def unreadable_channel(settings, team):
    settings.CHANNEL_SECRETS_KEYS = [OLD_KEY]
    channel = ChannelFactory(secret="s3cret")
    channel.teams.add(team)
    settings.CHANNEL_SECRETS_KEYS = [NEW_KEY]
    return reloaded(channel)


def test_the_api_says_the_secrets_cannot_be_read(admin_client_api, unreadable_channel):
    answer = admin_client_api.get(f"/api/v1/channels/{unreadable_channel.pk}/").json()

    assert "cannot be decrypted" in answer["secrets_error"]


def test_readable_secrets_have_no_error_in_the_api(admin_client_api, channel):
    assert admin_client_api.get(f"/api/v1/channels/{channel.pk}/").json()["secrets_error"] == ""


def test_the_admin_lists_the_channel_whose_secrets_cannot_be_read(admin_client, unreadable_channel):
    page = admin_client.get("/admin/channels_app/channel/")

    assert page.status_code == 200
    assert "cannot be decrypted" in page.content.decode()


def test_a_reply_fails_at_once_saying_the_secrets_cannot_be_read(unreadable_channel, operator):
    conversation = ConversationFactory(channel=unreadable_channel)
    reply = message_reply(conversation=conversation, author=operator, body="hi")

    message_deliver(message_id=reply.pk, attempt=1, max_attempts=3)

    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert "cannot be decrypted" in reason_text(reply)


def settings_in_a_fresh_process(data_dir: Path, **environment: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CHANNEL_SECRETS_KEYS")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings", SWITCHBOARD_DATA_DIR=str(data_dir), **environment
    )
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_embedded_mode_makes_a_random_key_of_its_own_once(tmp_path):
    first = settings_in_a_fresh_process(tmp_path).stdout.strip()
    again = settings_in_a_fresh_process(tmp_path).stdout.strip()
    elsewhere = settings_in_a_fresh_process(tmp_path / "other").stdout.strip()

    assert len(first) >= 50
    assert first == again
    assert elsewhere != first
    assert first != "embedded-mode-only-not-a-secret"
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_a_short_channel_secrets_key_stops_the_start(tmp_path):
    started = settings_in_a_fresh_process(tmp_path, CHANNEL_SECRETS_KEYS="short")

    assert started.returncode != 0
    assert "CHANNEL_SECRETS_KEYS" in started.stderr


def test_make_serve_listens_on_this_machine_only_unless_told():
    def serve_command(*arguments: str) -> str:
        return subprocess.run(
            ["make", "-n", "serve", *arguments], cwd=ROOT, capture_output=True, text=True
        ).stdout

    assert "--host 127.0.0.1 " in serve_command()
    assert "--host 0.0.0.0 " in serve_command("SERVE_HOST=0.0.0.0")
