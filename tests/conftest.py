import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from rest_framework.test import APIClient

from inbox import people, redis_silence
from inbox.models import Role
from inbox.outgoing_webhooks.emitting import events_subscribed_forget_cached
from inbox.rule_events import watched_triggers_forget_cached
from inbox.sla.policies import policies_forget_cached
from tests.factories import ChannelFactory, TeamFactory, UserFactory
from tests.fakes.platform import FakePlatform
from tests.helpers import RecordingServer
from tests.mail_servers import SmtpSink

REAL_SERVICES_REQUIRED = os.environ.get("SWITCHBOARD_REQUIRE_REAL_SERVICES") == "1"

# The fake platforms and callback servers of the tests listen on loopback, which outbound
# calls may not reach in production unless allowed; the servers and workers the tests start
# inherit this. The tests of the guard itself take loopback away again.
LOOPBACK_NETWORKS = ["127.0.0.0/8", "::1/128"]
os.environ["OUTBOUND_ALLOWED_NETWORKS"] = ",".join(LOOPBACK_NETWORKS)

# WhiteNoise warns on every client made when the directory collectstatic fills is missing;
# the test client serves no static files, live servers collect their own.
Path(django_settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

# Redis pub/sub channels are shared by every database of a server: a run of the suite
# must not hear another run's (or a benchmark's) groups.
_layer_config = django_settings.CHANNEL_LAYERS["default"].get("CONFIG")
if isinstance(_layer_config, dict) and "prefix" in _layer_config:
    _layer_config["prefix"] = f"switchboard-test-{uuid.uuid4().hex[:8]}"


def real_services_available() -> bool:
    return not django_settings.IS_EMBEDDED and django_settings.DATABASES["default"][
        "ENGINE"
    ].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    if real_services_available():
        return
    if REAL_SERVICES_REQUIRED:
        # CI must not pass with the tests that matter silently skipped.
        pytest.exit(
            "SWITCHBOARD_REQUIRE_REAL_SERVICES=1 but DATABASE_URL/REDIS_URL do not point at "
            "PostgreSQL and Redis",
            returncode=1,
        )
    skip = pytest.mark.skip(reason="needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL")
    for item in items:
        if "real_services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Every test client comes from 127.0.0.1: the tests of throttling set their own limit.
    settings.LOGIN_FAILURE_LIMIT = 1_000_000
    settings.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK_NETWORKS
    # Pages rendered by the test client need no collectstatic manifest (live servers,
    # started as in production, collect their static files first).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _no_sla_policies_left_over():
    """Each process keeps the SLA policies a few seconds; each test reads its own."""
    policies_forget_cached()
    yield
    policies_forget_cached()


@pytest.fixture(autouse=True)
def _no_webhook_subscriptions_left_over():
    """Each process keeps the subscribed events a few seconds; each test reads its own."""
    events_subscribed_forget_cached()
    yield
    events_subscribed_forget_cached()


@pytest.fixture(autouse=True)
def _no_watched_triggers_left_over():
    """Each process keeps which triggers automation rules watch a few seconds; each test
    reads its own."""
    watched_triggers_forget_cached()
    yield
    watched_triggers_forget_cached()


@pytest.fixture(autouse=True)
def _redis_answering():
    """A test whose broker refused a task leaves the next one a Redis worth trying."""
    yield
    redis_silence.redis_answered()


@pytest.fixture(autouse=True)
def _no_language_left_over():
    """A request served by the test client leaves its language active on the thread; the
    next test starts in the installation's language, as a worker or a new request does."""
    yield
    translation.deactivate()


@pytest.fixture
def team(db):
    return TeamFactory(name="Support")


@pytest.fixture
def channel(db, team):
    return ChannelFactory(teams=[team])


@pytest.fixture
def operator(db, team):
    return UserFactory(username="anna", first_name="Anna", teams=[team])


@pytest.fixture
def supervisor(db):
    return UserFactory(username="sam", role=Role.SUPERVISOR)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", role=Role.ADMIN, is_staff=True, is_superuser=True)


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {people.operator_api_token(user=user)}")
    return client


@pytest.fixture
def operator_client(operator):
    return client_for(operator)


@pytest.fixture
def supervisor_client(supervisor):
    return client_for(supervisor)


@pytest.fixture
def admin_client_api(admin_user):
    return client_for(admin_user)


@pytest.fixture
def callback_server():
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_platform():
    """A platform answering each request after 20 ms, many at once (tests/fakes/platform.py)."""
    platform = FakePlatform().start()
    yield platform
    platform.stop()


@pytest.fixture
def platform_api_channel(db, fake_platform):
    """An API channel whose callback URL is the fake platform."""
    from channels_app.services import channel_create

    return channel_create(
        kind="api",
        name="Shop",
        config={"secret": "s3cret", "callback_url": f"{fake_platform.url}/callback"},
    )


@pytest.fixture
def platform_bot(db, fake_platform):
    """A Telegram bot whose Bot API is the fake platform."""
    from channels_app.services import channel_create

    config = {"bot_token": "123:ABC", "webhook_secret": "hook", "api_base_url": fake_platform.url}
    return channel_create(kind="telegram", name="Shop bot", config=config)


@pytest.fixture
def smtp_sink():
    """A real SMTP server on loopback recording what our outgoing mail delivers."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()
